package rtsp

import (
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/unit"
)

// sink receives what the tracks of a session decode. The session implements
// it on top of its stream.Publisher and serializes the calls.
type sink interface {
	// setTrack declares track i or changes its parameters.
	setTrack(i int, p *unit.Params)
	// write publishes a unit whose timestamps are in the session's time base.
	write(u *unit.Unit)
	// problem counts a per-packet problem; it never ends the session.
	problem(what string, err error)
}

// track turns the RTP packets of one format into units.
type track interface {
	// handle decodes pkt, whose presentation time is pts in clock-rate
	// ticks of the format, and writes the units it completes.
	handle(pkt *rtp.Packet, pts int64)
}

// newTrack returns the track for forma as track index, declaring it to out
// when its parameters are known from the SDP. It returns nil for a format
// the stream does not carry.
func newTrack(index int, forma format.Format, out sink) (track, error) {
	switch f := forma.(type) {
	case *format.H264:
		return newH264Track(index, f, out)
	case *format.H265:
		return newH265Track(index, f, out)
	case *format.MPEG4Audio:
		return newAACTrack(index, f, out)
	case *format.G711:
		return newG711Track(index, f, out)
	}
	return nil, nil
}

// isVideo and isAudio tell which formats newTrack supports.
func isVideo(forma format.Format) bool {
	switch forma.(type) {
	case *format.H264, *format.H265:
		return true
	}
	return false
}

func isAudio(forma format.Format) bool {
	switch forma.(type) {
	case *format.MPEG4Audio, *format.G711:
		return true
	}
	return false
}

// ticks converts v ticks of a clockRate Hz clock to a duration, without
// overflowing int64 for large v: whole seconds first, then the remainder.
func ticks(v int64, clockRate int) time.Duration {
	cr := int64(clockRate)
	secs, rem := v/cr, v%cr
	return time.Duration(secs)*time.Second + time.Duration(rem*int64(time.Second)/cr)
}
