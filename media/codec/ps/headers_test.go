package ps

import (
	"bytes"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

func TestTimestamp(t *testing.T) {
	for _, v := range []int64{0, 1, 90000, 1<<32 - 1, 1 << 32, 1<<33 - 1, 1 << 33, -1, 0x1_2345_6789} {
		for _, prefix := range []byte{1, 2, 3} {
			b := appendTimestamp(nil, prefix, v)
			got, ok := readTimestamp(b)
			if !ok || got != uint64(v)&tsMask || b[0]>>4 != prefix {
				t.Fatalf("%#x prefix %d: % x read %#x %v", v, prefix, b, got, ok)
			}
		}
	}
}

func TestUnwrap(t *testing.T) {
	var u unwrapper
	for _, tc := range []struct {
		raw  uint64
		want int64
	}{
		{1<<33 - 3600, 1<<33 - 3600},
		{1<<33 - 1800, 1<<33 - 1800},
		{1000, 1<<33 + 1000},
		{(1<<33 + 1000 - 7200) & tsMask, 1<<33 + 1000 - 7200}, // audio a little behind, before the wrap
		{5000, 1<<33 + 5000},
		{5000 + 1<<32 - 1, 1<<33 + 5000 + 1<<32 - 1},
	} {
		if got := u.unwrap(tc.raw); got != tc.want {
			t.Fatalf("unwrap(%d) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}

// decodeSCR reads the SCR base of an MPEG-2 pack header.
func decodeSCR(b []byte) int64 {
	return int64(b[4]>>3&0x07)<<30 | int64(b[4]&0x03)<<28 | int64(b[5])<<20 |
		int64(b[6]>>3)<<15 | int64(b[6]&0x03)<<13 | int64(b[7])<<5 | int64(b[8]>>3)
}

func TestPackHeader(t *testing.T) {
	for _, scr := range []int64{0, 3600, 1<<33 - 1, 0x1_5555_AAAA} {
		b := appendPackHeader(nil, scr, muxRate)
		size, need, err := parsePackHeader(b, true)
		if err != nil || need != 0 || size != len(b) || size != packHeaderSize {
			t.Fatalf("SCR %#x: % x: size %d need %d err %v", scr, b, size, need, err)
		}
		if got := decodeSCR(b); got != scr&tsMask {
			t.Fatalf("SCR %#x decoded %#x", scr, got)
		}
		if rate := int(b[10])<<14 | int(b[11])<<6 | int(b[12])>>2; rate != muxRate {
			t.Fatalf("mux rate %d", rate)
		}
	}
	// A pack header with stuffing, as some devices write.
	b := appendPackHeader(nil, 0, muxRate)
	b[13] = 0xFA
	b = append(b, 0xFF, 0xFF)
	if size, _, err := parsePackHeader(b, true); err != nil || size != 16 {
		t.Fatalf("stuffing: size %d err %v", size, err)
	}
}

func TestCRC32MPEG2(t *testing.T) {
	// The check value of CRC-32/MPEG-2.
	if c := crc32MPEG2([]byte("123456789")); c != 0x0376E6E7 {
		t.Fatalf("check value %#x", c)
	}
	// A map gomedia's muxer wrote: its CRC leaves out the first two bytes
	// of the start code, one of the reasons the Demuxer does not check it.
	gomedia := []byte{0, 0, 1, 0xBC, 0x00, 0x12, 0xE3, 0xFF, 0x00, 0x00, 0x00, 0x08,
		0x24, 0xE0, 0x00, 0x00, 0x0F, 0xC0, 0x00, 0x00, 0x21, 0xF7, 0xC4, 0x48}
	if c := crc32MPEG2(gomedia[2:]); c != 0 {
		t.Fatalf("CRC over gomedia's map and its CRC: %#x, want 0", c)
	}
}

func TestPSM(t *testing.T) {
	entries := []psmEntry{{StreamH265, 0xE0}, {StreamAAC, 0xC0}}
	b := appendPSM(nil, 3, entries)
	if c := crc32MPEG2(b); c != 0 {
		t.Fatalf("CRC %#x", c)
	}
	if n := 6 + (int(b[4])<<8 | int(b[5])); n != len(b) {
		t.Fatalf("length %d of %d bytes", n, len(b))
	}
	var got []psmEntry
	if err := parsePSM(b, func(e psmEntry) { got = append(got, e) }); err != nil || len(got) != 2 || got[0] != entries[0] || got[1] != entries[1] {
		t.Fatalf("parsed %v %v", got, err)
	}
	// A map with descriptors in both loops, as Hikvision writes.
	hik := []byte{0, 0, 1, 0xBC, 0, 0x1E, 0xE0, 0xFF, 0, 4, 0x40, 2, 0x12, 0x34,
		0, 0x0C, 0x1B, 0xE0, 0, 4, 0x0A, 2, 0, 0, 0x90, 0xC0, 0, 0, 1, 2, 3, 4}
	got = got[:0]
	if err := parsePSM(hik, func(e psmEntry) { got = append(got, e) }); err != nil || len(got) != 2 ||
		got[0] != (psmEntry{StreamH264, 0xE0}) || got[1] != (psmEntry{StreamG711A, 0xC0}) {
		t.Fatalf("parsed %v %v", got, err)
	}
}

func TestSystemHeader(t *testing.T) {
	b := appendSystemHeader(nil, muxRate, []systemStream{{0xE0, 1, 400}, {0xC0, 0, 32}})
	if !checkSystemHeader(b) || len(b) != 6+(int(b[4])<<8|int(b[5])) {
		t.Fatalf("% x", b)
	}
	if b[9]>>2 != 1 || b[10]&0x1F != 1 {
		t.Fatalf("bounds: % x", b)
	}
}

func TestPESHeader(t *testing.T) {
	for _, tc := range []struct {
		n              int
		hasPTS, hasDTS bool
	}{{100, true, true}, {100, true, false}, {100, false, false}, {-1, true, false}} {
		b := appendPESHeader(nil, VideoStreamID, tc.n, true, tc.hasPTS, tc.hasDTS, 0x1_0000_0001, 0x1_0000_0000-3600)
		if tc.n > 0 {
			b = append(b, make([]byte, tc.n)...)
		}
		h, need, err := parsePESHeader(b, tc.hasPTS)
		if err != nil || need != 0 || h.hasPTS != tc.hasPTS || h.hasDTS != tc.hasDTS {
			t.Fatalf("%+v: %+v need %d err %v", tc, h, need, err)
		}
		if tc.hasPTS && h.pts != 0x1_0000_0001 || tc.hasDTS && h.dts != 0x1_0000_0000-3600 {
			t.Fatalf("%+v: timestamps %#x %#x", tc, h.pts, h.dts)
		}
		if want := tc.n; h.payload != want || h.size+max(tc.n, 0) != len(b) {
			t.Fatalf("%+v: payload %d size %d", tc, h.payload, h.size)
		}
	}
}

func TestNALEvidence(t *testing.T) {
	for _, tc := range []struct {
		b0, b1 byte
		want   unit.Codec
	}{
		{0x67, 0x4D, unit.CodecH264},    // SPS
		{0x68, 0xEE, unit.CodecH264},    // PPS
		{0x65, 0x88, unit.CodecH264},    // IDR
		{0x41, 0x9A, unit.CodecH264},    // P slice
		{0x01, 0x9E, unit.CodecH264},    // non-reference slice
		{0x09, 0xF0, unit.CodecH264},    // AUD
		{0x06, 0x05, unit.CodecUnknown}, // SEI: also H.265 TSA_R
		{0x40, 0x01, unit.CodecH265},    // VPS
		{0x42, 0x01, unit.CodecH265},    // SPS
		{0x44, 0x01, unit.CodecH265},    // PPS
		{0x46, 0x01, unit.CodecH265},    // AUD
		{0x4E, 0x01, unit.CodecH265},    // prefix SEI
		{0x26, 0x01, unit.CodecH265},    // IDR_W_RADL
		{0x28, 0x01, unit.CodecH265},    // IDR_N_LP
		{0x2A, 0x01, unit.CodecH265},    // CRA
		{0x02, 0x01, unit.CodecH265},    // TRAIL_R
		{0x00, 0x01, unit.CodecH265},    // TRAIL_N
		{0x02, 0x03, unit.CodecH265},    // TRAIL_R, TemporalId 2
		{0x80, 0x01, unit.CodecUnknown}, // forbidden_zero_bit
		{0x0C, 0xFF, unit.CodecUnknown}, // H.264 filler
	} {
		if got := nalEvidence(tc.b0, tc.b1, true); got != tc.want {
			t.Errorf("%#02x %#02x: %v, want %v", tc.b0, tc.b1, got, tc.want)
		}
	}
}

func TestStartsAccessUnit(t *testing.T) {
	for _, tc := range []struct {
		c    unit.Codec
		b    []byte
		want bool
	}{
		{unit.CodecH264, []byte{0, 0, 0, 1, 0x09, 0xF0}, true},
		{unit.CodecH264, []byte{0, 0, 1, 0x67, 0x4D}, true},
		{unit.CodecH264, []byte{0, 0, 0, 1, 0x41, 0x9A}, true},  // first_mb_in_slice 0
		{unit.CodecH264, []byte{0, 0, 0, 1, 0x41, 0x40}, false}, // first_mb_in_slice 1
		{unit.CodecH264, []byte{0, 0, 0, 1, 0x0C, 0xFF}, false}, // filler
		{unit.CodecH264, []byte{0x41, 0x9A, 0, 0, 1}, false},    // no start code
		{unit.CodecH265, []byte{0, 0, 0, 1, 0x40, 0x01, 0x0C}, true},
		{unit.CodecH265, []byte{0, 0, 0, 1, 0x02, 0x01, 0xD0}, true},  // first_slice_segment_in_pic_flag 1
		{unit.CodecH265, []byte{0, 0, 0, 1, 0x02, 0x01, 0x50}, false}, // a later slice segment
		{unit.CodecH265, []byte{0, 0, 0, 1, 0x50, 0x01, 0x50}, false}, // suffix SEI
		{unit.CodecUnknown, []byte{0, 0, 0, 1, 0x09, 0xF0}, false},
	} {
		if got := startsAccessUnit(tc.c, tc.b); got != tc.want {
			t.Errorf("%v % x: %v", tc.c, tc.b, got)
		}
	}
}

func TestADTSDuration(t *testing.T) {
	frames := loadADTS(t)
	two := append(append([]byte{}, frames[0]...), frames[1]...)
	if d, ok := adtsDuration(two); !ok || d != 2*(1024*90000/44100) {
		t.Fatalf("%d %v", d, ok)
	}
	if _, ok := adtsDuration(two[:len(two)-1]); ok {
		t.Fatal("cut frame taken for ADTS")
	}
	if _, ok := adtsDuration(bytes.Repeat([]byte{0xFF, 0xF1}, 50)); ok {
		t.Fatal("sync words taken for ADTS")
	}
}
