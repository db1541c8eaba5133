package au

import "bytes"

// startCode is the three-byte Annex-B start code prefix; a four-byte start
// code is a zero byte and this.
var startCode = []byte{0, 0, 1}

// SplitAnnexB appends to dst the NAL units of an Annex-B byte stream (ITU-T
// H.264 Annex B): the bytes between start codes (00 00 01 or 00 00 00 01),
// without the trailing zero bytes that pad a NAL unit. Bytes before the
// first start code are dropped. The NAL units alias b. It never fails: a
// device's stream may be cut anywhere.
func SplitAnnexB(dst [][]byte, b []byte) [][]byte {
	i := bytes.Index(b, startCode)
	if i < 0 {
		return dst
	}
	b = b[i+3:]
	for {
		// Emulation prevention (H.264 7.4.1) keeps 00 00 01 out of NAL
		// units, so the next one ends this one.
		j := bytes.Index(b, startCode)
		if j < 0 {
			return appendNALU(dst, b)
		}
		dst = appendNALU(dst, b[:j])
		b = b[j+3:]
	}
}

// appendNALU appends n without its trailing zero bytes, unless it is empty.
func appendNALU(dst [][]byte, n []byte) [][]byte {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	if len(n) == 0 {
		return dst
	}
	return append(dst, n)
}
