package ps

// readTimestamp decodes a 5-byte PTS or DTS field (ISO/IEC 13818-1 2.4.3.7):
// a 4-bit prefix, then bits 32..30, 29..15 and 14..0, each followed by a
// marker bit. ok is false when a marker bit is 0; lenient callers ignore it.
func readTimestamp(b []byte) (ts uint64, ok bool) {
	_ = b[4]
	ts = uint64(b[0]>>1&0x07)<<30 | uint64(b[1])<<22 | uint64(b[2]>>1)<<15 |
		uint64(b[3])<<7 | uint64(b[4]>>1)
	return ts, b[0]&b[2]&b[4]&1 == 1
}

// appendTimestamp appends a PTS or DTS field with the 4-bit prefix
// (0010 PTS only, 0011 PTS followed by DTS, 0001 DTS).
func appendTimestamp(b []byte, prefix byte, ts int64) []byte {
	v := uint64(ts) & tsMask
	return append(b,
		prefix<<4|byte(v>>29)&0x0E|1,
		byte(v>>22),
		byte(v>>14)|1,
		byte(v>>7),
		byte(v<<1)|1)
}

// unwrapper turns 33-bit timestamps into a continuous int64 timeline: each
// value is placed within ±2^32 ticks (13.2 hours at 90 kHz) of the one
// before, so a wrap of the 33-bit counter (every 26.5 hours) keeps time
// rising. Audio and video share one unwrapper so they stay comparable.
type unwrapper struct {
	last int64
	init bool
}

func (u *unwrapper) unwrap(raw uint64) int64 {
	if !u.init {
		u.init = true
		u.last = int64(raw & tsMask)
		return u.last
	}
	u.last += signed33(int64(raw) - u.last)
	return u.last
}

// signed33 reduces d modulo 2^33 into [-2^32, 2^32).
func signed33(d int64) int64 {
	d &= tsMask
	if d >= 1<<32 {
		d -= 1 << 33
	}
	return d
}
