package ps

// systemHeaderFixed is the size of a system header before its stream
// entries (ISO/IEC 13818-1 2.5.3.5).
const systemHeaderFixed = 12

// checkSystemHeader reports whether b, a whole system header, is well
// formed: marker bits set and stream entries of 3 bytes each starting '11'.
// Only a resynchronising Demuxer checks; otherwise the header is skipped by
// its length.
func checkSystemHeader(b []byte) bool {
	if len(b) < systemHeaderFixed || (len(b)-systemHeaderFixed)%3 != 0 {
		return false
	}
	if b[6]&0x80 == 0 || b[8]&0x01 == 0 || b[10]&0x20 == 0 {
		return false
	}
	for i := systemHeaderFixed; i < len(b); i += 3 {
		if b[i] < 0xB8 || b[i+1]&0xC0 != 0xC0 {
			return false
		}
	}
	return true
}

// systemStream is one stream entry of a system header.
type systemStream struct {
	id    byte
	scale byte   // P-STD_buffer_bound_scale: 0 units of 128 bytes, 1 of 1024
	size  uint16 // P-STD_buffer_size_bound, 13 bits
}

// appendSystemHeader appends a system header for the streams listed.
func appendSystemHeader(b []byte, rateBound uint32, streams []systemStream) []byte {
	var audio, video byte
	for _, s := range streams {
		if s.id >= 0xE0 {
			video++
		} else {
			audio++
		}
	}
	n := systemHeaderFixed - 6 + 3*len(streams)
	b = append(b, 0, 0, 1, idSystemHeader, byte(n>>8), byte(n),
		0x80|byte(rateBound>>15), byte(rateBound>>7), byte(rateBound<<1)|0x01,
		audio<<2,   // audio_bound, fixed_flag 0, CSPS_flag 0
		0xE0|video, // audio and video lock flags, marker, video_bound
		0x7F,       // packet_rate_restriction_flag 0, reserved
	)
	for _, s := range streams {
		b = append(b, s.id, 0xC0|s.scale<<5|byte(s.size>>8)&0x1F, byte(s.size))
	}
	return b
}
