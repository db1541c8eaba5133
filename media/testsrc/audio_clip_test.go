package testsrc

import (
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

func TestLoadAudio(t *testing.T) {
	cases := []struct {
		name            string
		codec           string
		sampleRate      int
		frames          int
		samplesPerFrame int
	}{
		// 4 s at 44100 Hz is 172.3 frames; the AAC encoder adds priming and
		// padding frames.
		{ClipAAC, CodecAAC, 44100, 174, 1024},
		{ClipPCMA, CodecPCMA, 8000, 200, 160},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clip, err := LoadAudio(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if clip.Codec != c.codec || clip.SampleRate != c.sampleRate || clip.Channels != 1 ||
				clip.SamplesPerFrame != c.samplesPerFrame || len(clip.Frames) != c.frames {
				t.Fatalf("got %s %d Hz %d ch %d frames of %d, want %s %d Hz 1 ch %d frames of %d",
					clip.Codec, clip.SampleRate, clip.Channels, len(clip.Frames), clip.SamplesPerFrame,
					c.codec, c.sampleRate, c.frames, c.samplesPerFrame)
			}
			if d := clip.Duration(); d < 4*time.Second || d > 4100*time.Millisecond {
				t.Errorf("duration %v, want about 4 s", d)
			}
			for i, fr := range clip.Frames {
				if len(fr) == 0 || (c.codec == CodecPCMA && len(fr) != 160) {
					t.Fatalf("frame %d has %d bytes", i, len(fr))
				}
			}

			if c.codec != CodecAAC {
				if clip.Config != nil {
					t.Error("PCMA clip has an AAC config")
				}
				return
			}
			if clip.Config.Type != mpeg4audio.ObjectTypeAACLC || clip.Config.SampleRate != 44100 || clip.Config.ChannelConfig != 1 {
				t.Errorf("config %+v, want AAC-LC 44100 Hz mono", clip.Config)
			}
			if _, err := clip.Config.Marshal(); err != nil {
				t.Errorf("config does not marshal: %v", err)
			}
		})
	}
}

func TestLoadAudioErrors(t *testing.T) {
	for _, name := range []string{"", "nope.adts", ClipH264, "../g711a.alaw"} {
		if _, err := LoadAudio(name); !errors.Is(err, ErrUnknownClip) {
			t.Errorf("LoadAudio(%q) error %v, want ErrUnknownClip", name, err)
		}
	}
}
