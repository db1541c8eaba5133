package testsrc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

func TestLoadVideo(t *testing.T) {
	cases := []struct {
		name          string
		codec         string
		frames        int
		width, height int
		profile       uint8 // profile_idc / general_profile_idc
		maxSize       int   // file size budget from the clip spec
	}{
		{ClipH264, CodecH264, 100, 320, 240, 77, 300 << 10},
		{ClipH265, CodecH265, 100, 320, 240, 1, 300 << 10},
		{ClipH264HD, CodecH264, 50, 1280, 720, 77, 700 << 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := readClip(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > c.maxSize {
				t.Errorf("file is %d bytes, budget %d", len(raw), c.maxSize)
			}

			clip, err := LoadVideo(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if clip.Codec != c.codec || clip.FPS != 25 || clip.Width != c.width || clip.Height != c.height {
				t.Errorf("got %s %d fps %dx%d, want %s 25 fps %dx%d",
					clip.Codec, clip.FPS, clip.Width, clip.Height, c.codec, c.width, c.height)
			}
			if len(clip.Frames) != c.frames {
				t.Fatalf("got %d frames, want %d", len(clip.Frames), c.frames)
			}
			if got, want := clip.Duration().Seconds(), float64(c.frames)/25; got != want {
				t.Errorf("duration %v s, want %v s", got, want)
			}

			params := [][]byte{clip.SPS, clip.PPS}
			if c.codec == CodecH265 {
				params = [][]byte{clip.VPS, clip.SPS, clip.PPS}
				var sps h265.SPS
				if err := sps.Unmarshal(clip.SPS); err != nil {
					t.Fatal(err)
				}
				if got := sps.ProfileTierLevel.GeneralProfileIdc; got != c.profile {
					t.Errorf("general_profile_idc %d, want %d", got, c.profile)
				}
			} else {
				var sps h264.SPS
				if err := sps.Unmarshal(clip.SPS); err != nil {
					t.Fatal(err)
				}
				if sps.ProfileIdc != c.profile {
					t.Errorf("profile_idc %d, want %d", sps.ProfileIdc, c.profile)
				}
			}

			nalus := 0
			for i, fr := range clip.Frames {
				nalus += len(fr.NALUs)
				if want := i%25 == 0; fr.Key != want {
					t.Errorf("frame %d: key %v, want %v", i, fr.Key, want)
				}
				if vcl := countVCL(c.codec, fr.NALUs); vcl != 1 {
					t.Errorf("frame %d: %d slices, want 1", i, vcl)
				}
				if !fr.Key {
					continue
				}
				if !isIDR(c.codec, fr.NALUs) {
					t.Errorf("frame %d: key frame is not IDR", i)
				}
				// Parameter sets lead every key frame, so a reader can start there.
				for j, p := range params {
					if j >= len(fr.NALUs) || !bytes.Equal(fr.NALUs[j], p) {
						t.Errorf("frame %d: NALU %d is not the clip's parameter set %d", i, j, j)
					}
				}
			}
			if all := len(splitAnnexB(raw)); nalus != all {
				t.Errorf("frames hold %d NALUs, file has %d", nalus, all)
			}
		})
	}
}

func TestLoadVideoErrors(t *testing.T) {
	for _, name := range []string{"", "nope.h264", "../clips.go", ClipAAC, "testdata/h264.h264"} {
		if _, err := LoadVideo(name); !errors.Is(err, ErrUnknownClip) {
			t.Errorf("LoadVideo(%q) error %v, want ErrUnknownClip", name, err)
		}
	}
}

func countVCL(codec string, nalus [][]byte) int {
	n := 0
	for _, nalu := range nalus {
		if codec == CodecH265 {
			if typ := h265.NALUType((nalu[0] >> 1) & 0x3f); typ < h265.NALUType_VPS_NUT {
				n++
			}
			continue
		}
		if typ := h264.NALUType(nalu[0] & 0x1f); typ >= h264.NALUTypeNonIDR && typ <= h264.NALUTypeIDR {
			n++
		}
	}
	return n
}

func isIDR(codec string, nalus [][]byte) bool {
	for _, nalu := range nalus {
		if codec == CodecH265 {
			typ := h265.NALUType((nalu[0] >> 1) & 0x3f)
			if typ == h265.NALUType_IDR_W_RADL || typ == h265.NALUType_IDR_N_LP {
				return true
			}
			continue
		}
		if h264.NALUType(nalu[0]&0x1f) == h264.NALUTypeIDR {
			return true
		}
	}
	return false
}
