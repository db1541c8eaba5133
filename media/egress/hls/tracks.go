package hls

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/nvr/nvr/media/unit"
)

// videoClockRate is the clock gohlslib requires for video tracks.
const videoClockRate = 90000

// muxTrack is one track of the stream and, when carried, its gohlslib track.
type muxTrack struct {
	params *unit.Params
	track  *gohlslib.Track // nil: not carried
}

// trackSet maps the stream's tracks (by index) to gohlslib tracks.
type trackSet []*muxTrack

// supported reports whether HLS carries a track with parameters p: H.264,
// H.265 or AAC, with complete parameters.
func supported(p *unit.Params) bool {
	if p == nil || !p.Ready() {
		return false
	}
	switch p.Codec {
	case unit.CodecH264, unit.CodecH265, unit.CodecAAC:
		return true
	}
	return false
}

// newTrackSet sets up the tracks for parameters indexed by stream track:
// the first video track and the first AAC track are carried (gohlslib takes
// a single video track). The byte slices are copied: gohlslib updates its
// codec's parameter sets from in-band ones, and a Params is shared.
func newTrackSet(params []*unit.Params) (trackSet, error) {
	ts := make(trackSet, len(params))
	var video, audio bool
	for i, p := range params {
		ts[i] = &muxTrack{params: p}
		if !supported(p) {
			continue
		}
		isVideo := p.Codec.IsVideo()
		if isVideo && video || !isVideo && audio {
			continue
		}
		tr, err := newTrack(p)
		if err != nil {
			return nil, err
		}
		ts[i].track = tr
		if isVideo {
			video = true
		} else {
			audio = true
		}
	}
	return ts, nil
}

func newTrack(p *unit.Params) (*gohlslib.Track, error) {
	switch p.Codec {
	case unit.CodecH264:
		return &gohlslib.Track{
			Codec:     &codecs.H264{SPS: bytes.Clone(p.SPS), PPS: bytes.Clone(p.PPS)},
			ClockRate: videoClockRate,
		}, nil
	case unit.CodecH265:
		return &gohlslib.Track{
			Codec:     &codecs.H265{VPS: bytes.Clone(p.VPS), SPS: bytes.Clone(p.SPS), PPS: bytes.Clone(p.PPS)},
			ClockRate: videoClockRate,
		}, nil
	case unit.CodecAAC:
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(p.AudioConfig); err != nil {
			return nil, fmt.Errorf("AAC AudioSpecificConfig: %w", err)
		}
		// gohlslib wants the clock rate to be the config's sample rate.
		return &gohlslib.Track{
			Codec:     &codecs.MPEG4Audio{Config: conf},
			ClockRate: conf.SampleRate,
		}, nil
	}
	return nil, fmt.Errorf("codec %v not supported in HLS", p.Codec)
}

// carried returns the gohlslib tracks, in stream order.
func (ts trackSet) carried() []*gohlslib.Track {
	var out []*gohlslib.Track
	for _, t := range ts {
		if t.track != nil {
			out = append(out, t.track)
		}
	}
	return out
}

// params returns the parameters of every track, indexed by stream track.
func (ts trackSet) params() []*unit.Params {
	out := make([]*unit.Params, len(ts))
	for i, t := range ts {
		out[i] = t.params
	}
	return out
}

// changed reports whether u needs a new muxer: its track's parameters
// differ from those the muxer was made with, or it brings a track the muxer
// would carry. Equal parameters in a new value (a publisher restart) are
// adopted without a change.
func (ts trackSet) changed(u *unit.Unit) bool {
	if u.Track < 0 {
		return false
	}
	if u.Track >= len(ts) {
		return ts.wouldCarry(u.Params)
	}
	t := ts[u.Track]
	if t.params == u.Params {
		return false
	}
	if t.params.Equal(u.Params) || t.track == nil && !ts.wouldCarry(u.Params) {
		t.params = u.Params
		return false
	}
	return true
}

// wouldCarry reports whether a track with parameters p would be carried if
// the muxer were rebuilt.
func (ts trackSet) wouldCarry(p *unit.Params) bool {
	if !supported(p) {
		return false
	}
	for _, t := range ts {
		if t.track != nil && t.params.Codec.IsVideo() == p.Codec.IsVideo() {
			return false
		}
	}
	return true
}

// withUnit returns params with u's parameters at u's track.
func withUnit(params []*unit.Params, u *unit.Unit) []*unit.Params {
	out := append([]*unit.Params(nil), params...)
	for len(out) <= u.Track {
		out = append(out, nil)
	}
	out[u.Track] = u.Params
	return out
}

// timestamp converts a stream time to ticks of a clock, rounded to the
// nearest tick; seconds and remainder are scaled apart to avoid overflow.
func timestamp(d time.Duration, rate int) int64 {
	secs, rem := d/time.Second, d%time.Second
	r := int64(rem) * int64(rate)
	if r >= 0 {
		r += int64(time.Second) / 2
	} else {
		r -= int64(time.Second) / 2
	}
	return int64(secs)*int64(rate) + r/int64(time.Second)
}
