package ps

// pesHeader is what the Demuxer uses of a PES header (ISO/IEC 13818-1
// 2.4.3.6, or the MPEG-1 layout of ISO/IEC 11172-1 2.4.3.3).
type pesHeader struct {
	pts, dts       uint64
	hasPTS, hasDTS bool
	// size is the header's length from the start code to the payload.
	size int
	// payload is the payload length, or -1 for a PES_packet_length of 0
	// (a video PES that runs to the next start code).
	payload int
}

// parsePESHeader parses the header of a PES of an audio or video stream at
// the start of b. need > len(b) asks for more bytes; err is ErrPESHeader. A
// strict parse (resynchronising) also asks for the MPEG-2 marker bits and a
// PTS, the signs of a real packet start rather than bytes that happen to
// look like one.
func parsePESHeader(b []byte, strict bool) (h pesHeader, need int, err error) {
	if len(b) < 9 {
		return h, 9, nil
	}
	length := int(b[4])<<8 | int(b[5])
	if b[6]&0xC0 != 0x80 {
		if strict || length == 0 {
			return h, 0, ErrPESHeader
		}
		return parseMPEG1PESHeader(b, length)
	}
	h.size = 9 + int(b[8])
	if length != 0 && h.size > 6+length {
		return h, 0, ErrPESHeader
	}
	if len(b) < h.size {
		return h, h.size, nil
	}
	switch b[7] >> 6 {
	case 2:
		if h.size < 14 {
			return h, 0, ErrPESHeader
		}
		h.hasPTS = true
	case 3:
		if h.size < 19 {
			return h, 0, ErrPESHeader
		}
		h.hasPTS, h.hasDTS = true, true
	case 1: // forbidden: DTS without PTS
		if strict {
			return h, 0, ErrPESHeader
		}
	}
	if strict && (!h.hasPTS || b[6]&0x30 != 0) { // no PTS, or scrambled
		return h, 0, ErrPESHeader
	}
	if h.hasPTS {
		var ok bool
		h.pts, ok = readTimestamp(b[9:])
		if strict && (!ok || b[9]>>4 != b[7]>>6) { // prefix 0010 or 0011
			return h, 0, ErrPESHeader
		}
	}
	if h.hasDTS {
		var ok bool
		h.dts, ok = readTimestamp(b[14:])
		if strict && (!ok || b[14]>>4 != 1) {
			return h, 0, ErrPESHeader
		}
	}
	h.payload = -1
	if length != 0 {
		h.payload = 6 + length - h.size
	}
	return h, 0, nil
}

// mpeg1PESHeaderMax is the longest MPEG-1 PES header: 6 bytes, 16 stuffing
// bytes, STD buffer (2), PTS and DTS (10).
const mpeg1PESHeaderMax = 6 + 16 + 2 + 10

// parseMPEG1PESHeader parses the MPEG-1 layout, which devices with an
// MPEG-1 pack header may use. It asks for the longest possible header (or
// the whole packet when shorter); the caller gives back what follows.
func parseMPEG1PESHeader(b []byte, length int) (h pesHeader, need int, err error) {
	end := min(6+length, mpeg1PESHeaderMax)
	if len(b) < end {
		return h, end, nil
	}
	i := 6
	for i < end && i < 6+16 && b[i] == 0xFF {
		i++
	}
	if i < end && b[i]&0xC0 == 0x40 { // STD_buffer_scale and size
		i += 2
	}
	if i >= end {
		return h, 0, ErrPESHeader
	}
	switch b[i] >> 4 {
	case 2:
		if i+5 > end {
			return h, 0, ErrPESHeader
		}
		h.pts, _ = readTimestamp(b[i:])
		h.hasPTS = true
		i += 5
	case 3:
		if i+10 > end {
			return h, 0, ErrPESHeader
		}
		h.pts, _ = readTimestamp(b[i:])
		h.dts, _ = readTimestamp(b[i+5:])
		h.hasPTS, h.hasDTS = true, true
		i += 10
	default:
		if b[i] != 0x0F {
			return h, 0, ErrPESHeader
		}
		i++
	}
	h.size = i
	h.payload = 6 + length - i
	return h, 0, nil
}

// appendPESHeader appends a PES header with PES_packet_length for a payload
// of n bytes (0 when n < 0: unbounded video), the data_alignment_indicator
// when align, and a PTS, a PTS and a DTS, or no timestamp.
func appendPESHeader(b []byte, id byte, n int, align, hasPTS, hasDTS bool, pts, dts int64) []byte {
	hdl := 0
	flags := byte(0)
	switch {
	case hasPTS && hasDTS:
		hdl, flags = 10, 0xC0
	case hasPTS:
		hdl, flags = 5, 0x80
	}
	length := 0
	if n >= 0 {
		length = 3 + hdl + n
	}
	b1 := byte(0x80) // '10', not scrambled, no priority, not copyrighted
	if align {
		b1 |= 0x04
	}
	b = append(b, 0, 0, 1, id, byte(length>>8), byte(length), b1, flags, byte(hdl))
	switch {
	case hasPTS && hasDTS:
		b = appendTimestamp(b, 3, pts)
		b = appendTimestamp(b, 1, dts)
	case hasPTS:
		b = appendTimestamp(b, 2, pts)
	}
	return b
}
