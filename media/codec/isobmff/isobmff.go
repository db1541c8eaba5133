// Package isobmff holds the small pieces of ISO base media file format
// (MP4) writing that the fMP4 output and the recorder share: sample data in
// length-prefixed form and timestamps in a track's timescale.
package isobmff

import "time"

// AVCC joins NAL units with 4-byte length prefixes (ISO/IEC 14496-15 5.3.2;
// the avcC/hvcC records mediacommon writes say lengthSizeMinusOne = 3).
// Empty units are left out.
func AVCC(nalus [][]byte) []byte {
	n := 0
	for _, nalu := range nalus {
		n += 4 + len(nalu)
	}
	buf := make([]byte, 0, n)
	for _, nalu := range nalus {
		if len(nalu) == 0 {
			continue
		}
		l := len(nalu)
		buf = append(buf, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		buf = append(buf, nalu...)
	}
	return buf
}

// Ticks converts a stream time to ticks of a clock of rate Hz, rounding to
// the nearest tick; a negative time is 0. Seconds and the remainder are
// scaled apart so that a stream running for months does not overflow.
func Ticks(d time.Duration, rate uint32) uint64 {
	if d <= 0 {
		return 0
	}
	secs, rem := d/time.Second, d%time.Second
	return uint64(secs)*uint64(rate) + (uint64(rem)*uint64(rate)+uint64(time.Second)/2)/uint64(time.Second)
}
