package rtsp

import (
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtplpcm"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/unit"
)

// g711SampleRate is the G.711 rate when the SDP gives none (RFC 3551 §4.5.14).
const g711SampleRate = 8000

// g711Track turns G.711 RTP (RFC 3551) into one unit per packet.
type g711Track struct {
	index     int
	out       sink
	dec       *rtplpcm.Decoder
	clockRate int
}

func newG711Track(index int, f *format.G711, out sink) (*g711Track, error) {
	p := &unit.Params{
		Codec:      unit.CodecPCMA,
		SampleRate: f.SampleRate,
		Channels:   f.ChannelCount,
	}
	if f.MULaw {
		p.Codec = unit.CodecPCMU
	}
	if p.SampleRate <= 0 {
		p.SampleRate = g711SampleRate
	}
	if p.Channels <= 0 {
		p.Channels = 1
	}
	g := *f
	g.SampleRate, g.ChannelCount = p.SampleRate, p.Channels
	dec, err := g.CreateDecoder()
	if err != nil {
		return nil, err
	}
	out.setTrack(index, p)
	return &g711Track{index: index, out: out, dec: dec, clockRate: p.SampleRate}, nil
}

func (t *g711Track) handle(pkt *rtp.Packet, pts int64) {
	samples, err := t.dec.Decode(pkt)
	if err != nil {
		t.out.problem("G.711 RTP decode", err)
		return
	}
	if len(samples) == 0 {
		return
	}
	at := ticks(pts, t.clockRate)
	t.out.write(&unit.Unit{
		Track: t.index,
		PTS:   at,
		DTS:   at,
		Key:   true,
		Data:  [][]byte{samples},
	})
}
