package rtsp

import (
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtplpcm"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/ingest/internal/au"
	"github.com/nvr/nvr/media/unit"
)

// g711Track depacketizes G.711 RTP (RFC 3551) into one run of samples per
// packet for an au.G711, declared with the SDP's law, rate and channels.
type g711Track struct {
	dec  *rtplpcm.Decoder
	g711 au.G711
}

func newG711Track(index int, f *format.G711, out au.Sink) (*g711Track, error) {
	t := &g711Track{g711: au.G711{Track: index, Sink: out}}
	codec := unit.CodecPCMA
	if f.MULaw {
		codec = unit.CodecPCMU
	}
	t.g711.SetFormat(codec, f.SampleRate, f.ChannelCount)
	// The RTP clock is the sample rate (RFC 3551 §4.5.14), 8000 Hz when
	// the SDP gives none; the decoder needs the channel count likewise.
	p := t.g711.Params()
	t.g711.ClockRate = p.SampleRate
	g := *f
	g.SampleRate, g.ChannelCount = p.SampleRate, p.Channels
	dec, err := g.CreateDecoder()
	if err != nil {
		return nil, err
	}
	t.dec = dec
	return t, nil
}

func (t *g711Track) handle(pkt *rtp.Packet, pts int64) {
	samples, err := t.dec.Decode(pkt)
	if err != nil {
		t.g711.Sink.Problem("G.711 RTP decode", err)
		return
	}
	t.g711.Write(samples, pts)
}
