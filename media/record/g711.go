package record

// MP4 has no G.711 sample entry that players agree on (QuickTime's 'alaw' and
// 'ulaw' are not in ISO/IEC 14496-12 and mediacommon does not write them), so
// G.711 is expanded to 16-bit big-endian linear PCM and stored as 'ipcm'
// (ISO/IEC 23003-5), which mediacommon writes. Expansion is exact: G.711 is
// a companding of 13/14-bit linear samples, so nothing is lost, at the price
// of twice the audio bytes (128 kbit/s at 8 kHz mono instead of 64).

// g711Tables map each A-law and µ-law code to its linear value, built once
// from the decoding rules of ITU-T G.711 (tables 1a and 2a).
var (
	alawTable = g711Table(alawToLinear)
	ulawTable = g711Table(ulawToLinear)
)

func g711Table(dec func(byte) int16) *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = dec(byte(i))
	}
	return &t
}

// alawToLinear decodes one A-law code. The code's even bits are inverted on
// the wire (G.711 section 2); then bit 7 is the sign (1: positive), bits 4-6
// the segment and bits 0-3 the step inside it. The result is the middle of
// the quantization interval, scaled to 16 bits.
func alawToLinear(code byte) int16 {
	code ^= 0x55
	seg := (code >> 4) & 0x07
	v := int32(code&0x0f)<<4 + 8
	if seg > 0 {
		v = (v + 0x100) << (seg - 1)
	}
	if code&0x80 == 0 {
		v = -v
	}
	return int16(v)
}

// ulawToLinear decodes one µ-law code. All bits are inverted on the wire;
// then bit 7 is the sign (1: negative), bits 4-6 the segment (exponent) and
// bits 0-3 the mantissa, with the bias of 33 (scaled: 0x84) removed.
func ulawToLinear(code byte) int16 {
	code = ^code
	seg := (code >> 4) & 0x07
	v := (int32(code&0x0f)<<3 + 0x84) << seg
	v -= 0x84
	if code&0x80 != 0 {
		v = -v
	}
	return int16(v)
}

// expandG711 appends the 16-bit big-endian linear samples of the codes in
// src to dst.
func expandG711(dst []byte, table *[256]int16, src []byte) []byte {
	for _, c := range src {
		v := uint16(table[c])
		dst = append(dst, byte(v>>8), byte(v))
	}
	return dst
}
