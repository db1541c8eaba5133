package rtsp

import (
	"errors"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/ingest/internal/au"
	"github.com/nvr/nvr/media/unit"
)

// nalDecoder is gortsplib's H.264 or H.265 RTP decoder.
type nalDecoder interface {
	Decode(pkt *rtp.Packet) ([][]byte, error)
}

// videoTrack depacketizes H.264 (RFC 6184) or H.265 (RFC 7798) RTP into
// access units for an au.Video, which computes their DTS (RTP carries none).
type videoTrack struct {
	dec nalDecoder
	// waiting are the decoder's errors that say nothing is wrong: fragments
	// of a unit still being assembled, or the tail of a unit whose start
	// was lost before we joined.
	waiting []error
	what    string // the problem of other decode errors
	video   au.Video
}

func newH264Track(index int, f *format.H264, out au.Sink) (*videoTrack, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	t := newVideoTrack(index, unit.CodecH264, out, dec, rtph264.ErrMorePacketsNeeded, rtph264.ErrNonStartingPacketAndNoPrevious)
	sps, pps := f.SafeParams()
	t.video.SetParams(nil, sps, pps)
	return t, nil
}

func newH265Track(index int, f *format.H265, out au.Sink) (*videoTrack, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	t := newVideoTrack(index, unit.CodecH265, out, dec, rtph265.ErrMorePacketsNeeded, rtph265.ErrNonStartingPacketAndNoPrevious)
	t.video.SetParams(f.SafeParams())
	return t, nil
}

func newVideoTrack(index int, codec unit.Codec, out au.Sink, dec nalDecoder, waiting ...error) *videoTrack {
	what := "H.264 RTP decode"
	if codec == unit.CodecH265 {
		what = "H.265 RTP decode"
	}
	return &videoTrack{dec: dec, waiting: waiting, what: what, video: au.Video{Track: index, Codec: codec, Sink: out}}
}

func (t *videoTrack) handle(pkt *rtp.Packet, pts int64) {
	nalus, err := t.dec.Decode(pkt)
	if err == nil {
		t.video.WriteAU(nalus, pts)
		return
	}
	for _, w := range t.waiting {
		if errors.Is(err, w) {
			return
		}
	}
	t.video.Sink.Problem(t.what, err)
}
