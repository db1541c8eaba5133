package rtsp

import (
	"bytes"
	"errors"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/unit"
)

// videoClockRate is the RTP clock rate of H.264 and H.265 (RFC 6184 §8.2.1,
// RFC 7798 §7.1). The DTS extractors work in these ticks.
const videoClockRate = 90000

// h264Track decodes H.264 RTP (RFC 6184) into access units.
type h264Track struct {
	index int
	out   sink
	dec   *rtph264.Decoder

	sps, pps []byte       // newest parameter sets, from the SDP or in band
	params   *unit.Params // declared parameters; nil until SPS and PPS are known
	dtsx     *h264.DTSExtractor
}

func newH264Track(index int, f *format.H264, out sink) (*h264Track, error) {
	dec, err := f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	t := &h264Track{index: index, out: out, dec: dec}
	sps, pps := f.SafeParams()
	t.updateParams(sps, pps)
	return t, nil
}

func (t *h264Track) handle(pkt *rtp.Packet, pts int64) {
	au, err := t.dec.Decode(pkt)
	if err != nil {
		// Fragments of a unit still being assembled, or the tail of a unit
		// whose start was lost before we joined: nothing is wrong.
		if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
			t.out.problem("H.264 RTP decode", err)
		}
		return
	}
	t.writeAU(au, pts)
}

// writeAU publishes one access unit: parameter sets in band update the
// track, delimiters are dropped, and a random-access unit is prefixed with
// the current SPS and PPS.
func (t *h264Track) writeAU(au [][]byte, pts int64) {
	sps, pps := t.sps, t.pps
	n, idr := 0, false
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = nalu
		case h264.NALUTypePPS:
			pps = nalu
		case h264.NALUTypeAccessUnitDelimiter:
		case h264.NALUTypeIDR:
			idr = true
			n++
		default:
			n++
		}
	}
	if !bytes.Equal(sps, t.sps) || !bytes.Equal(pps, t.pps) {
		t.updateParams(sps, pps)
	}
	if n == 0 || t.params == nil {
		// Parameter sets alone, or a picture nobody can decode yet.
		return
	}

	data := make([][]byte, 0, n+2)
	if idr {
		data = append(data, t.sps, t.pps)
	}
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeAccessUnitDelimiter:
			continue
		}
		data = append(data, nalu)
	}
	key := h264.IsRandomAccess(data)

	// The extractor needs a random-access unit, with its SPS, to start.
	if t.dtsx == nil {
		if !key {
			return
		}
		t.dtsx = &h264.DTSExtractor{}
		t.dtsx.Initialize()
	}
	dts, err := t.dtsx.Extract(data, pts)
	if err != nil {
		t.out.problem("H.264 DTS", err)
		t.dtsx = nil // start again at the next IDR
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

// updateParams records new parameter sets and, once both are known,
// declares them with a new Params value.
func (t *h264Track) updateParams(sps, pps []byte) {
	t.sps, t.pps = sps, pps
	if sps == nil || pps == nil {
		return
	}
	p := &unit.Params{Codec: unit.CodecH264, SPS: sps, PPS: pps, SampleRate: videoClockRate}
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		t.out.problem("H.264 SPS", err)
	} else {
		p.Width, p.Height = s.Width(), s.Height()
	}
	t.params = p
	t.out.setTrack(t.index, p)
}
