package rtsp

import (
	"errors"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/ingest/internal/au"
)

// aacTrack depacketizes MPEG-4 audio RTP (RFC 3640, AAC-hbr) into access
// units for an au.AAC, declared from the SDP's AudioSpecificConfig.
type aacTrack struct {
	dec *rtpmpeg4audio.Decoder
	aac au.AAC
}

func newAACTrack(index int, f *format.MPEG4Audio, out au.Sink) (*aacTrack, error) {
	if f.Config == nil {
		return nil, errors.New("AAC without AudioSpecificConfig")
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	// The RTP clock is the sample rate of the config.
	t := &aacTrack{dec: dec, aac: au.AAC{Track: index, ClockRate: f.ClockRate(), Sink: out}}
	if err := t.aac.SetConfig(f.Config); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *aacTrack) handle(pkt *rtp.Packet, pts int64) {
	aus, err := t.dec.Decode(pkt)
	if err != nil {
		if !errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded) {
			t.aac.Sink.Problem("AAC RTP decode", err)
		}
		return
	}
	// The RTP timestamp is the one of the first AU of the packet.
	t.aac.WriteAUs(aus, pts)
}
