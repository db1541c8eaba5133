package flv

import (
	"errors"
	"reflect"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/nvr/nvr/media/testsrc"
)

func TestAVCDecoderConfigurationRecord(t *testing.T) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH264)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewAVCDecoderConfigurationRecord(clip.SPS, clip.PPS)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rec.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	// ISO/IEC 14496-15 5.3.3.1: version 1, profile/compat/level from the SPS,
	// 4-byte lengths, one SPS, then one PPS.
	want := append([]byte{1, clip.SPS[1], clip.SPS[2], clip.SPS[3], 0xff, 0xe1, 0, byte(len(clip.SPS))}, clip.SPS...)
	want = append(append(want, 1, 0, byte(len(clip.PPS))), clip.PPS...)
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("got  % x\nwant % x", b, want)
	}
	var back AVCDecoderConfigurationRecord
	if err := back.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, rec) {
		t.Fatalf("round trip: %+v, want %+v", back, rec)
	}

	for _, bad := range [][]byte{nil, {2, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0xff, 0xe1, 0}, {1, 0, 0, 0, 0xff, 0xe1, 0, 5, 1}, {1, 0, 0, 0, 0xff, 0xe0}} {
		if err := back.Unmarshal(bad); !errors.Is(err, ErrConfigRecord) {
			t.Errorf("% x: %v", bad, err)
		}
	}
	if _, err := NewAVCDecoderConfigurationRecord([]byte{0x67}, clip.PPS); !errors.Is(err, ErrConfigRecord) {
		t.Errorf("short SPS: %v", err)
	}
}

func TestHEVCDecoderConfigurationRecord(t *testing.T) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH265)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewHEVCDecoderConfigurationRecord(clip.VPS, clip.SPS, clip.PPS)
	if err != nil {
		t.Fatal(err)
	}
	var sps h265.SPS
	if err := sps.Unmarshal(clip.SPS); err != nil {
		t.Fatal(err)
	}
	ptl := sps.ProfileTierLevel
	if rec.GeneralProfileIdc != ptl.GeneralProfileIdc || rec.GeneralLevelIdc != ptl.GeneralLevelIdc ||
		rec.GeneralTierFlag != ptl.GeneralTierFlag || rec.GeneralProfileSpace != ptl.GeneralProfileSpace {
		t.Fatalf("profile/tier/level %+v, SPS says %+v", rec, ptl)
	}
	for i, f := range ptl.GeneralProfileCompatibilityFlag {
		if got := rec.GeneralProfileCompatibilityFlags>>(31-i)&1 == 1; got != f {
			t.Fatalf("compatibility flag %d: %v, want %v", i, got, f)
		}
	}
	if rec.ChromaFormatIdc != 1 || rec.BitDepthLumaMinus8 != 0 || rec.NumTemporalLayers != sps.MaxSubLayersMinus1+1 ||
		rec.TemporalIDNested != sps.TemporalIDNestingFlag || rec.LengthSizeMinusOne != 3 {
		t.Fatalf("record %+v", rec)
	}
	b, err := rec.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != hevcRecordFixedSize+3*5+len(clip.VPS)+len(clip.SPS)+len(clip.PPS) {
		t.Fatalf("record of %d bytes", len(b))
	}
	var back HEVCDecoderConfigurationRecord
	if err := back.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, rec) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", back, rec)
	}
	if got := back.NALUs(h265.NALUType_SPS_NUT); len(got) != 1 || !reflect.DeepEqual(got[0], clip.SPS) {
		t.Fatalf("SPS array %x", got)
	}
	if back.NALUs(h265.NALUType_PREFIX_SEI_NUT) != nil {
		t.Fatal("SEI array found")
	}

	for _, bad := range [][]byte{nil, b[:22], append([]byte{2}, b[1:]...), b[:len(b)-1], b[:hevcRecordFixedSize+2]} {
		if err := back.Unmarshal(bad); !errors.Is(err, ErrConfigRecord) {
			t.Errorf("% x: %v", bad, err)
		}
	}
	if _, err := NewHEVCDecoderConfigurationRecord(clip.VPS, clip.SPS[:10], clip.PPS); !errors.Is(err, ErrConfigRecord) {
		t.Errorf("short SPS: %v", err)
	}
}
