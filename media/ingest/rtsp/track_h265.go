package rtsp

import (
	"bytes"
	"errors"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/unit"
)

// h265Track decodes H.265 RTP (RFC 7798) into access units.
type h265Track struct {
	index int
	out   sink
	dec   *rtph265.Decoder

	vps, sps, pps []byte       // newest parameter sets, from the SDP or in band
	params        *unit.Params // declared parameters; nil until all three are known
	dtsx          *h265.DTSExtractor
}

func newH265Track(index int, f *format.H265, out sink) (*h265Track, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	t := &h265Track{index: index, out: out, dec: dec}
	vps, sps, pps := f.SafeParams()
	t.updateParams(vps, sps, pps)
	return t, nil
}

func (t *h265Track) handle(pkt *rtp.Packet, pts int64) {
	au, err := t.dec.Decode(pkt)
	if err != nil {
		if !errors.Is(err, rtph265.ErrMorePacketsNeeded) && !errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious) {
			t.out.problem("H.265 RTP decode", err)
		}
		return
	}
	t.writeAU(au, pts)
}

func h265Type(nalu []byte) h265.NALUType {
	return h265.NALUType((nalu[0] >> 1) & 0x3f)
}

// writeAU publishes one access unit: parameter sets in band update the
// track, delimiters are dropped, and a random-access unit (IDR or CRA) is
// prefixed with the current VPS, SPS and PPS.
func (t *h265Track) writeAU(au [][]byte, pts int64) {
	vps, sps, pps := t.vps, t.sps, t.pps
	n := 0
	for _, nalu := range au {
		if len(nalu) < 2 { // the H.265 NAL unit header is two bytes
			continue
		}
		switch h265Type(nalu) {
		case h265.NALUType_VPS_NUT:
			vps = nalu
		case h265.NALUType_SPS_NUT:
			sps = nalu
		case h265.NALUType_PPS_NUT:
			pps = nalu
		case h265.NALUType_AUD_NUT:
		default:
			n++
		}
	}
	if !bytes.Equal(vps, t.vps) || !bytes.Equal(sps, t.sps) || !bytes.Equal(pps, t.pps) {
		t.updateParams(vps, sps, pps)
	}
	if n == 0 || t.params == nil {
		return
	}

	data := make([][]byte, 0, n+3)
	for _, nalu := range au {
		if len(nalu) < 2 {
			continue
		}
		switch h265Type(nalu) {
		case h265.NALUType_VPS_NUT, h265.NALUType_SPS_NUT, h265.NALUType_PPS_NUT, h265.NALUType_AUD_NUT:
			continue
		}
		data = append(data, nalu)
	}
	key := h265.IsRandomAccess(data)
	if key {
		data = append([][]byte{t.vps, t.sps, t.pps}, data...)
	}

	if t.dtsx == nil {
		if !key {
			return
		}
		t.dtsx = &h265.DTSExtractor{}
		t.dtsx.Initialize()
	}
	dts, err := t.dtsx.Extract(data, pts)
	if err != nil {
		t.out.problem("H.265 DTS", err)
		t.dtsx = nil
		return
	}
	t.out.write(&unit.Unit{
		Track: t.index,
		PTS:   ticks(pts, videoClockRate),
		DTS:   ticks(dts, videoClockRate),
		Key:   key,
		Data:  data,
	})
}

// updateParams records new parameter sets and, once all three are known,
// declares them with a new Params value.
func (t *h265Track) updateParams(vps, sps, pps []byte) {
	t.vps, t.sps, t.pps = vps, sps, pps
	if vps == nil || sps == nil || pps == nil {
		return
	}
	p := &unit.Params{Codec: unit.CodecH265, VPS: vps, SPS: sps, PPS: pps, SampleRate: videoClockRate}
	var s h265.SPS
	if err := s.Unmarshal(sps); err != nil {
		t.out.problem("H.265 SPS", err)
	} else {
		p.Width, p.Height = s.Width(), s.Height()
	}
	t.params = p
	t.out.setTrack(t.index, p)
}
