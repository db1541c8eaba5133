package au

import (
	"bytes"
	"errors"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/nvr/nvr/media/unit"
)

// ErrDTSMissing is reported once when a source's decode timestamps step
// back while they equal the presentation timestamps: B-frames sent without
// DTS. The track then computes DTS from the bitstream (from the next
// keyframe on).
var ErrDTSMissing = errors.New("decode timestamps missing with B-frames: computing them")

// B-frames without DTS show as small steps back of a DTS that equals the
// PTS. A camera clock that is reset steps back too, but rarely twice and
// rarely by less than a second: it takes bFrameSteps steps of at most
// bFrameStepMax to decide.
const (
	bFrameSteps   = 2
	bFrameStepMax = VideoClockRate // 1 s
)

// dtsExtractor is mediacommon's H.264 or H.265 DTS extractor.
type dtsExtractor interface {
	Extract(au [][]byte, pts int64) (int64, error)
}

// Video turns the access units of an H.264 or H.265 track into units. Set
// the fields, then call WriteAU for each access unit. A Video is used by one
// goroutine.
type Video struct {
	// Track is the index of the track in the stream.
	Track int
	// Codec is unit.CodecH264 or unit.CodecH265.
	Codec unit.Codec
	// Sink receives the units.
	Sink Sink

	vps, sps, pps []byte       // newest parameter sets, from the SDP or in band
	params        *unit.Params // declared parameters; nil until all are known
	dtsx          dtsExtractor // nil until a random-access unit started it
	extract       bool         // DTS is computed, not taken from the source
	lastDTS       int64
	hasLast       bool
	backSteps     int // small steps back of DTS == PTS seen
}

// SetParams sets parameter sets known out of band (the SDP). vps is
// ignored for H.264. The slices are kept.
func (t *Video) SetParams(vps, sps, pps []byte) {
	t.updateParams(vps, sps, pps)
}

// Params returns the declared parameters, or nil.
func (t *Video) Params() *unit.Params { return t.params }

// WriteAU publishes an access unit whose presentation time is pts in 90 kHz
// ticks; the decode time is computed from the bitstream (RTP carries none).
func (t *Video) WriteAU(au [][]byte, pts int64) {
	t.extract = true
	t.write(au, pts, pts)
}

// WriteAUWithDTS publishes an access unit whose times the source gave (an
// MPEG program stream). When the source leaves DTS out although the stream
// has B-frames, the track notices that DTS goes backwards and computes it
// from the bitstream from then on.
func (t *Video) WriteAUWithDTS(au [][]byte, pts, dts int64) {
	if !t.extract && t.hasLast && dts == pts && dts < t.lastDTS && t.lastDTS-dts <= bFrameStepMax {
		if t.backSteps++; t.backSteps >= bFrameSteps {
			t.problem("DTS", ErrDTSMissing)
			t.extract = true
			t.dtsx = nil
		}
	}
	t.write(au, pts, dts)
}

// write publishes one access unit: parameter sets in band update the
// track, delimiters are dropped, and a random-access unit is prefixed with
// the current parameter sets.
func (t *Video) write(au [][]byte, pts, dts int64) {
	isH265 := t.Codec == unit.CodecH265
	vps, sps, pps := t.vps, t.sps, t.pps
	n := 0
	for _, nalu := range au {
		switch t.kind(nalu) {
		case nalVPS:
			vps = nalu
		case nalSPS:
			sps = nalu
		case nalPPS:
			pps = nalu
		case nalPicture:
			n++
		}
	}
	if !bytes.Equal(vps, t.vps) || !bytes.Equal(sps, t.sps) || !bytes.Equal(pps, t.pps) {
		t.updateParams(bytes.Clone(vps), bytes.Clone(sps), bytes.Clone(pps))
	}
	if n == 0 || t.params == nil {
		// Parameter sets alone, or a picture nobody can decode yet.
		return
	}

	extra := 2
	if isH265 {
		extra = 3
	}
	data := make([][]byte, extra, n+extra)
	for _, nalu := range au {
		if t.kind(nalu) == nalPicture {
			data = append(data, nalu)
		}
	}
	var key bool
	if isH265 {
		key = h265.IsRandomAccess(data[extra:])
	} else {
		key = h264.IsRandomAccess(data[extra:])
	}
	if key {
		if isH265 {
			data[0], data[1], data[2] = t.vps, t.sps, t.pps
		} else {
			data[0], data[1] = t.sps, t.pps
		}
	} else {
		data = data[extra:]
	}

	if t.extract {
		// The extractor needs a random-access unit, with its parameter
		// sets, to start.
		if t.dtsx == nil {
			if !key {
				return
			}
			t.dtsx = t.newExtractor()
		}
		var err error
		if dts, err = t.dtsx.Extract(data, pts); err != nil {
			t.problem("DTS", err)
			t.dtsx = nil // start again at the next random-access unit
			return
		}
	}
	t.lastDTS, t.hasLast = dts, true
	t.Sink.WriteUnit(&unit.Unit{
		Track: t.Track,
		PTS:   Ticks(pts, VideoClockRate),
		DTS:   Ticks(dts, VideoClockRate),
		Key:   key,
		Data:  data,
	})
}

func (t *Video) newExtractor() dtsExtractor {
	if t.Codec == unit.CodecH265 {
		x := &h265.DTSExtractor{}
		x.Initialize()
		return x
	}
	x := &h264.DTSExtractor{}
	x.Initialize()
	return x
}

type nalClass uint8

const (
	nalOther   nalClass = iota // dropped: AUD, or shorter than its header
	nalVPS                     // H.265 only
	nalSPS                     //
	nalPPS                     //
	nalPicture                 // everything that stays in the unit
)

// kind classifies a NAL unit of the track's codec.
func (t *Video) kind(nalu []byte) nalClass {
	if t.Codec == unit.CodecH265 {
		if len(nalu) < 2 { // the H.265 NAL unit header is two bytes
			return nalOther
		}
		switch h265.NALUType((nalu[0] >> 1) & 0x3f) {
		case h265.NALUType_VPS_NUT:
			return nalVPS
		case h265.NALUType_SPS_NUT:
			return nalSPS
		case h265.NALUType_PPS_NUT:
			return nalPPS
		case h265.NALUType_AUD_NUT:
			return nalOther
		}
		return nalPicture
	}
	if len(nalu) == 0 {
		return nalOther
	}
	switch h264.NALUType(nalu[0] & 0x1f) {
	case h264.NALUTypeSPS:
		return nalSPS
	case h264.NALUTypePPS:
		return nalPPS
	case h264.NALUTypeAccessUnitDelimiter:
		return nalOther
	}
	return nalPicture
}

// updateParams records new parameter sets and, once all are known,
// declares them with a new Params value.
func (t *Video) updateParams(vps, sps, pps []byte) {
	t.vps, t.sps, t.pps = vps, sps, pps
	h265codec := t.Codec == unit.CodecH265
	if sps == nil || pps == nil || h265codec && vps == nil {
		return
	}
	p := &unit.Params{Codec: t.Codec, SPS: sps, PPS: pps, SampleRate: VideoClockRate}
	if h265codec {
		p.VPS = vps
		var s h265.SPS
		if err := s.Unmarshal(sps); err != nil {
			t.problem("SPS", err)
		} else {
			p.Width, p.Height = s.Width(), s.Height()
		}
	} else {
		var s h264.SPS
		if err := s.Unmarshal(sps); err != nil {
			t.problem("SPS", err)
		} else {
			p.Width, p.Height = s.Width(), s.Height()
		}
	}
	t.params = p
	t.Sink.SetTrack(t.Track, p)
}

// problem reports a problem under the codec's name ("H.264 DTS").
func (t *Video) problem(what string, err error) {
	codec := "H.264 "
	if t.Codec == unit.CodecH265 {
		codec = "H.265 "
	}
	t.Sink.Problem(codec+what, err)
}
