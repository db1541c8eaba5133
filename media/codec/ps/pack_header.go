package ps

// Pack header sizes (ISO/IEC 13818-1 2.5.3.3; ISO/IEC 11172-1 2.4.3.2).
const (
	packHeaderSize      = 14 // MPEG-2, before pack_stuffing_length bytes
	mpeg1PackHeaderSize = 12
)

// parsePackHeader returns the size of the pack header at the start of b,
// need > len(b) when it needs more bytes, or ErrPackHeader. The SCR and mux
// rate are not used: the Demuxer times frames by their PTS. A strict parse
// (resynchronising) checks the marker bits too.
func parsePackHeader(b []byte, strict bool) (size, need int, err error) {
	if len(b) < 5 {
		return 0, 5, nil
	}
	switch {
	case b[4]&0xC0 == 0x40: // MPEG-2: '01' SCR...
		if len(b) < packHeaderSize {
			return 0, packHeaderSize, nil
		}
		if strict && (b[4]&0x04 == 0 || b[6]&0x04 == 0 || b[8]&0x04 == 0 || b[9]&0x01 == 0 || b[12]&0x03 != 0x03) {
			return 0, 0, ErrPackHeader
		}
		size = packHeaderSize + int(b[13]&0x07) // pack_stuffing_length
		if len(b) < size {
			return 0, size, nil
		}
		return size, 0, nil
	case b[4]&0xF0 == 0x20: // MPEG-1: '0010' SCR...
		if len(b) < mpeg1PackHeaderSize {
			return 0, mpeg1PackHeaderSize, nil
		}
		if strict && (b[4]&0x01 == 0 || b[6]&0x01 == 0 || b[8]&0x01 == 0 || b[9]&0x80 == 0 || b[11]&0x01 == 0) {
			return 0, 0, ErrPackHeader
		}
		return mpeg1PackHeaderSize, 0, nil
	}
	return 0, 0, ErrPackHeader
}

// appendPackHeader appends an MPEG-2 pack header with the SCR base scr (90
// kHz, extension 0), program_mux_rate muxRate (units of 50 bytes/s) and no
// stuffing.
func appendPackHeader(b []byte, scr int64, muxRate uint32) []byte {
	v := uint64(scr) & tsMask
	return append(b, 0, 0, 1, idPackHeader,
		0x40|byte(v>>27)&0x38|0x04|byte(v>>28)&0x03, // '01' SCR[32..30] marker SCR[29..28]
		byte(v>>20), // SCR[27..20]
		byte(v>>12)&0xF8|0x04|byte(v>>13)&0x03, // SCR[19..15] marker SCR[14..13]
		byte(v>>5),      // SCR[12..5]
		byte(v<<3)|0x04, // SCR[4..0] marker SCR_ext[8..7] = 0
		0x01,            // SCR_ext[6..0] = 0, marker
		byte(muxRate>>14), byte(muxRate>>6), byte(muxRate<<2)|0x03,
		0xF8, // reserved, pack_stuffing_length 0
	)
}
