// Package au turns the access units an ingest extracts (RTP depacketized by
// the RTSP ingest, PS demuxed by the GB28181 ingest) into unit.Unit values,
// the same way for every source:
//
//   - Video is normalized the way MediaMTX does it: access unit delimiters
//     and in-band parameter sets are removed from the unit, and every
//     random-access unit starts with the track's current parameter sets, so
//     a keyframe is decodable on its own by any output (TS, FLV, fMP4).
//   - Parameter sets seen in band update the track; a change makes a new
//     *unit.Params, and width and height come from the SPS.
//   - AAC is one unit per access unit, each with its own time; ADTS
//     headers give the AudioSpecificConfig when no SDP does.
//   - Problems with single units are reported to the Sink and never stop a
//     track.
//
// The tracks do not copy the bytes they are given: the caller hands over
// slices it will not reuse.
package au

import (
	"time"

	"github.com/nvr/nvr/media/unit"
)

// VideoClockRate is the clock of H.264 and H.265 timestamps (RFC 6184
// §8.2.1, RFC 7798 §7.1, and the 90 kHz of MPEG system streams). The DTS
// extractors work in these ticks.
const VideoClockRate = 90000

// Sink receives what the tracks produce. A session implements it on top of
// its stream.Publisher.
type Sink interface {
	// SetTrack declares track i or changes its parameters.
	SetTrack(i int, p *unit.Params)
	// WriteUnit publishes a unit whose timestamps are in the session's
	// time base.
	WriteUnit(u *unit.Unit)
	// Problem counts a problem with one unit; it never ends the session.
	Problem(what string, err error)
}

// Ticks converts v ticks of a clockRate Hz clock to a duration without
// overflowing int64 for large v: whole seconds first, then the remainder.
func Ticks(v int64, clockRate int) time.Duration {
	cr := int64(clockRate)
	secs, rem := v/cr, v%cr
	return time.Duration(secs)*time.Second + time.Duration(rem*int64(time.Second)/cr)
}
