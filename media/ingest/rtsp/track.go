package rtsp

import (
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/ingest/internal/au"
)

// track depacketizes the RTP packets of one format and hands the access
// units to the au builder of its codec, which writes the units to the
// session's au.Sink.
type track interface {
	// handle decodes pkt, whose presentation time is pts in clock-rate
	// ticks of the format, and writes the units it completes.
	handle(pkt *rtp.Packet, pts int64)
}

// newTrack returns the track for forma as track index, declaring it to out
// when its parameters are known from the SDP. It returns nil for a format
// the stream does not carry.
func newTrack(index int, forma format.Format, out au.Sink) (track, error) {
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
