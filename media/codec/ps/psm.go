package ps

// psmEntry is one elementary stream of a program stream map.
type psmEntry struct {
	typ StreamType
	id  byte
}

// parsePSM calls fn for each elementary stream of the program stream map b
// (ISO/IEC 13818-1 2.5.4, starting at the start code, as long as
// program_stream_map_length says). The CRC is not checked: devices get it
// wrong. Lengths that run past the map are ErrPSM, but the entries before
// them are still reported.
func parsePSM(b []byte, fn func(psmEntry)) error {
	if len(b) < 16 { // fixed fields, both info lengths and a CRC
		return ErrPSM
	}
	end := len(b) - 4 // CRC_32
	i := 10 + (int(b[8])<<8 | int(b[9]))
	if i+2 > end {
		return ErrPSM
	}
	esEnd := i + 2 + (int(b[i])<<8 | int(b[i+1]))
	i += 2
	if esEnd > end {
		return ErrPSM
	}
	for i+4 <= esEnd {
		fn(psmEntry{typ: StreamType(b[i]), id: b[i+1]})
		i += 4 + (int(b[i+2])<<8 | int(b[i+3]))
	}
	if i != esEnd {
		return ErrPSM
	}
	return nil
}

// appendPSM appends a program stream map of version (5 bits) for entries.
func appendPSM(b []byte, version byte, entries []psmEntry) []byte {
	start := len(b)
	esLen := 4 * len(entries)
	n := 6 + 4 + esLen // flags to es map length, entries, CRC_32 (2.5.4.1)
	b = append(b, 0, 0, 1, idPSM, byte(n>>8), byte(n),
		0x80|0x20|version&0x1F, // current_next_indicator 1, single_extension_stream_flag 0, reserved
		0xFF,                   // reserved, marker
		0, 0,                   // program_stream_info_length
		byte(esLen>>8), byte(esLen))
	for _, e := range entries {
		b = append(b, byte(e.typ), e.id, 0, 0) // no descriptors
	}
	c := crc32MPEG2(b[start:])
	return append(b, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
}

// crc32MPEG2 is the CRC of ISO/IEC 13818-1 Annex A: polynomial 0x04C11DB7,
// initial value 0xFFFFFFFF, not reflected, no final XOR. A map is a few
// dozen bytes once per key frame, so bitwise is fast enough and needs no
// table.
func crc32MPEG2(b []byte) uint32 {
	c := uint32(0xFFFFFFFF)
	for _, v := range b {
		c ^= uint32(v) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
	}
	return c
}
