package flv

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nvr/nvr/media/testsrc"
)

var updateSeeds = flag.Bool("update", false, "rewrite the committed fuzz seeds in testdata/fuzz/FuzzReader")

// maxSeedSize keeps committed seeds small: the fuzzer mutates small inputs
// much faster, and a few tags of each kind cover the parser.
const maxSeedSize = 6 << 10

func FuzzReader(f *testing.F) {
	for _, c := range tagCases {
		f.Add(append(Header{HasAudio: true, HasVideo: true}.Append(nil), c.enc...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for {
			tag, err := r.ReadTag()
			if tag == nil {
				if err == nil {
					t.Fatal("no tag and no error")
				}
				return
			}
			if len(tag.Body) > MaxTagSize {
				t.Fatalf("body of %d bytes", len(tag.Body))
			}
			if err != nil {
				continue // undecodable body, framing intact
			}
			checkRoundTrip(t, tag)
		}
	})
}

// checkRoundTrip checks that what the Reader decoded encodes back to the
// same bytes (or, for AMF0 and records with reserved bits, to a stable form).
func checkRoundTrip(t *testing.T, tag *Tag) {
	switch {
	case tag.Video != nil:
		if got := tag.Video.Append(nil); !bytes.Equal(got, tag.Body) {
			t.Fatalf("video body\n% x\nre-encoded\n% x", tag.Body, got)
		}
		v := tag.Video
		switch {
		case !v.Enhanced && v.CodecID == VideoCodecAVC && v.PacketType == AVCSequenceHeader,
			v.Enhanced && v.FourCC == FourCCAVC && v.PacketType == PacketTypeSequenceStart:
			var rec, back AVCDecoderConfigurationRecord
			if rec.Unmarshal(v.Payload) == nil {
				enc, err := rec.Append(nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := back.Unmarshal(enc); err != nil || !reflect.DeepEqual(rec, back) {
					t.Fatalf("AVC record round trip: %v\n%+v\n%+v", err, rec, back)
				}
			}
		case v.Enhanced && v.FourCC == FourCCHEVC && v.PacketType == PacketTypeSequenceStart:
			var rec, back HEVCDecoderConfigurationRecord
			if rec.Unmarshal(v.Payload) == nil {
				enc, err := rec.Append(nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := back.Unmarshal(enc); err != nil || !reflect.DeepEqual(rec, back) {
					t.Fatalf("HEVC record round trip: %v\n%+v\n%+v", err, rec, back)
				}
			}
		}
	case tag.Audio != nil:
		if got := tag.Audio.Append(nil); !bytes.Equal(got, tag.Body) {
			t.Fatalf("audio body\n% x\nre-encoded\n% x", tag.Body, got)
		}
	case tag.Script != nil:
		// Bytes are not kept exactly (a short long-string becomes a string,
		// a missing end marker appears), but the second encoding is stable.
		// Comparing bytes, not values, also copes with NaN numbers.
		enc1, err := tag.Script.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		var back ScriptTag
		if err := back.Unmarshal(enc1); err != nil {
			t.Fatalf("re-decoding %q: %v", enc1, err)
		}
		enc2, err := back.Append(nil)
		if err != nil || !bytes.Equal(enc1, enc2) {
			t.Fatalf("script round trip: %v\n% x\n% x", err, enc1, enc2)
		}
	}
}

// TestFuzzSeeds regenerates the committed seeds with -update: the FFmpeg
// files in testdata and our own muxer's output, each cut to a few KiB at a
// tag boundary. Without -update it checks that the seeds are there.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	if !*updateSeeds {
		seeds, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(seeds) == 0 {
			t.Fatal("no committed fuzz seeds; run go test -run TestFuzzSeeds -update")
		}
		return
	}
	seeds := map[string][]byte{}
	files, err := filepath.Glob(filepath.Join("testdata", "*.flv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		seeds[strings.TrimSuffix(filepath.Base(file), ".flv")] = b
	}
	for _, c := range []struct{ name, video, audio string }{
		{"nvr_h264_aac", testsrc.ClipH264, testsrc.ClipAAC},
		{"nvr_h265_pcma", testsrc.ClipH265, testsrc.ClipPCMA},
	} {
		vp, ap, units := clipUnits(t, c.video, c.audio)
		seeds[c.name] = muxFile(t, vp, ap, units)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		b = cutAtTag(b, maxSeedSize)
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cutAtTag returns the longest prefix of an FLV stream not over max bytes
// that ends on a tag boundary.
func cutAtTag(b []byte, max int) []byte {
	end := headerSize + prevTagSizeSize
	for end+tagHeaderSize <= len(b) {
		size := int(b[end+1])<<16 | int(b[end+2])<<8 | int(b[end+3])
		next := end + tagHeaderSize + size + prevTagSizeSize
		if next > max || next > len(b) {
			break
		}
		end = next
	}
	return b[:end]
}
