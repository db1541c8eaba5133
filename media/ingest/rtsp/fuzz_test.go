package rtsp

import (
	"bytes"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/nvr/nvr/media/testsrc"
)

// joinAU and splitAU pack an access unit into one fuzz input: each NAL unit
// is preceded by a two-byte big-endian length.
func joinAU(au [][]byte) []byte {
	var b bytes.Buffer
	for _, nalu := range au {
		b.WriteByte(byte(len(nalu) >> 8))
		b.WriteByte(byte(len(nalu)))
		b.Write(nalu)
	}
	return b.Bytes()
}

func splitAU(buf []byte) [][]byte {
	var au [][]byte
	for len(buf) >= 2 {
		n := int(buf[0])<<8 | int(buf[1])
		buf = buf[2:]
		n = min(n, len(buf))
		au = append(au, buf[:n])
		buf = buf[n:]
	}
	return au
}

// FuzzH264WriteAU feeds arbitrary access units, as a camera could send them,
// after the clip's first GOP: the track must neither panic nor publish a
// keyframe without its parameter sets.
func FuzzH264WriteAU(f *testing.F) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH264)
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range clip.Frames[:30] {
		f.Add(joinAU(fr.NALUs))
	}
	f.Add([]byte{0, 1, 0x65})          // a one-byte IDR
	f.Add([]byte{0, 2, 0x67, 0, 0, 0}) // a broken SPS and an empty NAL unit
	f.Fuzz(func(t *testing.T, buf []byte) {
		var rec recorder
		tr, err := newH264Track(0, &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}, &rec)
		if err != nil {
			t.Fatal(err)
		}
		pts := int64(0)
		for _, fr := range clip.Frames[:5] {
			tr.writeAU(fr.NALUs, pts)
			pts += frameTicks
		}
		tr.writeAU(splitAU(buf), pts)
		tr.writeAU(clip.Frames[25].NALUs, pts+frameTicks)
		for _, u := range rec.units {
			if u.Key && !h264IsParam(u.Data[0]) {
				t.Fatal("keyframe without parameter sets")
			}
		}
	})
}

// FuzzH265WriteAU is FuzzH264WriteAU for H.265.
func FuzzH265WriteAU(f *testing.F) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH265)
	if err != nil {
		f.Fatal(err)
	}
	for _, fr := range clip.Frames[:30] {
		f.Add(joinAU(fr.NALUs))
	}
	f.Add([]byte{0, 1, 0x26})       // a one-byte IDR_W_RADL header
	f.Add([]byte{0, 2, 0x42, 1, 0}) // a broken SPS and an empty NAL unit
	f.Fuzz(func(t *testing.T, buf []byte) {
		var rec recorder
		tr, err := newH265Track(0, &format.H265{PayloadTyp: 96, VPS: clip.VPS, SPS: clip.SPS, PPS: clip.PPS}, &rec)
		if err != nil {
			t.Fatal(err)
		}
		pts := int64(0)
		for _, fr := range clip.Frames[:5] {
			tr.writeAU(fr.NALUs, pts)
			pts += frameTicks
		}
		tr.writeAU(splitAU(buf), pts)
		tr.writeAU(clip.Frames[25].NALUs, pts+frameTicks)
		for _, u := range rec.units {
			if u.Key && !h265IsParam(u.Data[0]) {
				t.Fatal("keyframe without parameter sets")
			}
		}
	})
}
