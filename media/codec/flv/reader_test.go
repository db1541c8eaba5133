package flv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// TestReaderFFmpegFiles reads the files FFmpeg made (see testdata/README.md),
// checking our Reader against another muxer.
func TestReaderFFmpegFiles(t *testing.T) {
	for _, c := range []struct {
		file      string
		video     bool
		audio     SoundFormat
		keyframes bool // -flvflags add_keyframe_index
		bframes   bool
	}{
		{file: "ffmpeg_h264_aac.flv", video: true, audio: SoundAAC, bframes: true},
		{file: "ffmpeg_h264_pcma_keyframes.flv", video: true, audio: SoundPCMA, keyframes: true},
		{file: "ffmpeg_pcmu.flv", audio: SoundPCMU},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			h, tags := readAll(t, b)
			if h.HasVideo != c.video || !h.HasAudio {
				t.Fatalf("header %+v", h)
			}
			meta := tags[0].Script
			if meta == nil || meta.Name != "onMetaData" {
				t.Fatalf("first tag %+v", tags[0])
			}
			m, ok := meta.Value.(ECMAArray)
			if !ok {
				t.Fatalf("metadata is %T", meta.Value)
			}
			if id, _ := m.Get("audiocodecid"); id != float64(c.audio) {
				t.Errorf("audiocodecid %v", id)
			}
			if kf, ok := m.Get("keyframes"); ok != c.keyframes {
				t.Errorf("keyframes %v", kf)
			} else if ok {
				times, _ := kf.(Object).Get("times")
				if arr, _ := times.(StrictArray); len(arr) == 0 {
					t.Errorf("keyframes.times %v", times)
				}
			}

			var videos, audios, negCTS, posCTS int
			// FFmpeg interleaves by DTS but not strictly (its audio may trail
			// the last video tags), so check each type on its own.
			last := map[TagType]uint32{}
			for i, tag := range tags[1:] {
				if tag.Timestamp < last[tag.Type] {
					t.Errorf("tag %d: %s timestamp %d after %d", i+1, tag.Type, tag.Timestamp, last[tag.Type])
				}
				last[tag.Type] = tag.Timestamp
				switch {
				case tag.Video != nil:
					v := tag.Video
					if v.CodecID != VideoCodecAVC {
						t.Fatalf("tag %d: %+v", i+1, v)
					}
					if videos == 0 && (v.PacketType != AVCSequenceHeader || v.FrameType != FrameKey) {
						t.Fatalf("first video tag %+v", v)
					}
					if v.PacketType == AVCNALU {
						var au h264.AVCC
						if err := au.Unmarshal(v.Payload); err != nil {
							t.Fatalf("tag %d: %v", i+1, err)
						}
						posCTS += int(min(v.CTS, 1))
						negCTS += int(-min(v.CTS, 0))
					}
					videos++
				case tag.Audio != nil:
					if tag.Audio.Format != c.audio {
						t.Fatalf("tag %d: %+v", i+1, tag.Audio)
					}
					audios++
				}
			}
			if (videos > 0) != c.video || audios == 0 {
				t.Fatalf("%d video and %d audio tags", videos, audios)
			}
			if c.bframes && (posCTS == 0 || negCTS != 0) {
				t.Errorf("%d tags with a positive composition time, %d negative", posCTS, negCTS)
			}
		})
	}
}
