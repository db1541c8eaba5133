package au

import (
	"testing"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// FuzzWriteADTS: arbitrary PES payloads of an AAC stream never panic, and
// every unit is a whole frame inside the input.
func FuzzWriteADTS(f *testing.F) {
	clip, err := testsrc.LoadAudio(testsrc.ClipAAC)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(adtsFrames(f, clip, clip.Frames[:3]))
	f.Add([]byte{0xff, 0xf1, 0x50, 0x80, 0x00, 0x1f, 0xfc})
	f.Fuzz(func(t *testing.T, b []byte) {
		var rec recorder
		a := &AAC{ClockRate: VideoClockRate, Sink: &rec}
		a.WriteADTS(b, 0)
		n := 0
		for _, u := range rec.units {
			n += len(u.Data[0]) + 7
			if u.Params != nil {
				t.Fatal("Params set by the track")
			}
		}
		if n > len(b) {
			t.Fatalf("%d bytes of units from %d", n, len(b))
		}
		for _, p := range rec.params {
			if p.SampleRate <= 0 || p.Channels <= 0 || len(p.AudioConfig) != 2 {
				t.Fatalf("params %+v", p)
			}
		}
	})
}

// FuzzVideoAnnexB: an arbitrary access unit after a good GOP never panics
// nor yields a keyframe without its parameter sets.
func FuzzVideoAnnexB(f *testing.F) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH265)
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range clip.Frames[:3] {
		f.Add(annexB(fr.NALUs))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, codec := range []unit.Codec{unit.CodecH264, unit.CodecH265} {
			var rec recorder
			v := &Video{Codec: codec, Sink: &rec}
			v.WriteAUWithDTS(SplitAnnexB(nil, annexB(clip.Frames[0].NALUs)), 0, 0)
			v.WriteAUWithDTS(SplitAnnexB(nil, b), frameTicks, frameTicks)
			v.WriteAU(SplitAnnexB(nil, b), 2*frameTicks)
			for _, u := range rec.units {
				if u.Key && (len(u.Data) < 2 || u.Data[0] == nil) {
					t.Fatalf("keyframe without parameter sets: %x", u.Data)
				}
			}
		}
	})
}
