package record

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/nvr/nvr/media/codec/isobmff"
	"github.com/nvr/nvr/media/unit"
)

// videoTimescale is the clock of video tracks: 90 kHz, the RTP and MPEG-TS
// video clock, fine enough for any frame rate.
const videoTimescale = 90000

// g711Rate is the G.711 sample rate when the parameters do not say.
const g711Rate = 8000

// errUnsupported is returned for parameters the recorder cannot store.
var errUnsupported = errors.New("codec cannot be recorded")

// recordable reports whether a track with these parameters is stored.
func recordable(p *unit.Params) bool {
	if p == nil || !p.Ready() {
		return false
	}
	switch p.Codec {
	case unit.CodecH264, unit.CodecH265, unit.CodecAAC, unit.CodecPCMA, unit.CodecPCMU:
		return true
	}
	return false
}

// track is one stored track of a segment and the samples of the fragment
// being built.
type track struct {
	params    *unit.Params
	id        int // mp4 track ID
	timescale uint32
	codec     mp4codecs.Codec
	str       string      // RFC 6381 codec string
	g711      *[256]int16 // non-nil: samples are G.711 codes to expand to PCM
	aacRate   uint32      // AAC: samples per second of the timescale
	video     bool
	pending   *pendingSample // newest sample, waiting for its duration
	samples   []*fmp4.Sample
	base      uint64 // decode time of samples[0]
	dur       uint64 // total duration of samples
	size      int    // total payload bytes of samples
	lastDur   uint32
}

// pendingSample is a sample whose duration is not known yet.
type pendingSample struct {
	fmp4.Sample
	dts uint64
}

// newTrack prepares a stored track for parameters p.
func newTrack(p *unit.Params) (*track, error) {
	t := &track{params: p, video: p.Codec.IsVideo()}
	switch p.Codec {
	case unit.CodecH264:
		t.codec = &mp4codecs.H264{SPS: bytes.Clone(p.SPS), PPS: bytes.Clone(p.PPS)}
		t.timescale = videoTimescale
		t.str = codecparams.Marshal(&hlscodecs.H264{SPS: p.SPS, PPS: p.PPS})

	case unit.CodecH265:
		t.codec = &mp4codecs.H265{VPS: bytes.Clone(p.VPS), SPS: bytes.Clone(p.SPS), PPS: bytes.Clone(p.PPS)}
		t.timescale = videoTimescale
		t.str = codecparams.Marshal(&hlscodecs.H265{VPS: p.VPS, SPS: p.SPS, PPS: p.PPS})

	case unit.CodecAAC:
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(p.AudioConfig); err != nil {
			return nil, fmt.Errorf("AAC AudioSpecificConfig: %w", err)
		}
		if conf.SampleRate <= 0 {
			return nil, fmt.Errorf("AAC AudioSpecificConfig: invalid sample rate %d", conf.SampleRate)
		}
		t.codec = &mp4codecs.MPEG4Audio{Config: conf}
		// The AAC sample clock: one access unit is 1024 ticks. With implicit
		// SBR signalling this is the core rate, which is also what access
		// unit durations are counted in.
		t.timescale = uint32(conf.SampleRate)
		t.str = codecparams.Marshal(&hlscodecs.MPEG4Audio{Config: conf})

	case unit.CodecPCMA, unit.CodecPCMU:
		rate, ch := p.SampleRate, p.Channels
		if rate <= 0 {
			rate = g711Rate
		}
		if ch <= 0 {
			ch = 1
		}
		t.codec = &mp4codecs.LPCM{BitDepth: 16, SampleRate: rate, ChannelCount: ch}
		t.timescale = uint32(rate)
		t.str = "ipcm"
		t.g711 = alawTable
		if p.Codec == unit.CodecPCMU {
			t.g711 = ulawTable
		}

	default:
		return nil, fmt.Errorf("%w: %v", errUnsupported, p.Codec)
	}
	return t, nil
}

// add turns a unit into samples. Each sample completes the one before it,
// whose duration is the distance between the two.
func (t *track) add(u *unit.Unit) {
	dts := isobmff.Ticks(u.DTS, t.timescale)
	switch {
	case t.video:
		s := &pendingSample{dts: dts}
		s.PTSOffset = int32(int64(isobmff.Ticks(u.PTS, t.timescale)) - int64(dts))
		s.IsNonSyncSample = !u.Key
		s.Payload = isobmff.AVCC(u.Data)
		t.push(s)

	case t.g711 != nil:
		n := u.Size()
		if n == 0 {
			return
		}
		payload := make([]byte, 0, 2*n)
		for _, d := range u.Data {
			payload = expandG711(payload, t.g711, d)
		}
		s := &pendingSample{dts: dts}
		s.Payload = payload
		t.push(s)

	default:
		// AAC: each entry of Data is one access unit of 1024 samples.
		for i, au := range u.Data {
			if len(au) == 0 {
				continue
			}
			s := &pendingSample{dts: dts + uint64(i)*mpeg4audio.SamplesPerAccessUnit}
			s.Payload = au
			t.push(s)
		}
	}
}

// ownDuration is the duration a sample carries in itself, for audio: what
// completes the last sample of a fragment. 0 for video.
func (t *track) ownDuration(s *pendingSample) uint32 {
	switch {
	case t.video:
		return 0
	case t.g711 != nil:
		ch := uint32(1)
		if c, ok := t.codec.(*mp4codecs.LPCM); ok && c.ChannelCount > 0 {
			ch = uint32(c.ChannelCount)
		}
		return uint32(len(s.Payload)) / 2 / ch
	default:
		return mpeg4audio.SamplesPerAccessUnit
	}
}

// push makes s the pending sample, completing the previous one.
func (t *track) push(s *pendingSample) {
	if t.pending != nil {
		if s.dts < t.pending.dts {
			// Decode times never go back in MP4; the stream already smooths
			// jumps, so this is at most rounding.
			s.dts = t.pending.dts
		}
		t.complete(uint32(min(s.dts-t.pending.dts, 1<<32-1)))
	}
	t.pending = s
}

// finish completes the pending sample with its own duration (audio) or the
// previous sample's (video): used when a fragment must end before the next
// sample of this track is known.
func (t *track) finish() {
	if t.pending == nil {
		return
	}
	d := t.ownDuration(t.pending)
	if d == 0 {
		d = t.lastDur
	}
	if d == 0 {
		d = t.timescale / 25
	}
	t.complete(d)
}

// complete moves the pending sample to the fragment with duration d.
func (t *track) complete(d uint32) {
	p := t.pending
	t.pending = nil
	p.Duration = d
	if d > 0 {
		t.lastDur = d
	}
	if len(t.samples) == 0 {
		t.base = p.dts
	}
	t.samples = append(t.samples, &p.Sample)
	t.dur += uint64(d)
	t.size += len(p.Payload)
}

// reset forgets the fragment's samples (not the pending one).
func (t *track) reset() {
	t.samples, t.dur, t.size = nil, 0, 0
}

// ticksToDuration converts ticks of a clock to a duration.
func ticksToDuration(ticks int64, rate uint32) time.Duration {
	r := int64(rate)
	return time.Duration(ticks/r)*time.Second + time.Duration(ticks%r)*time.Second/time.Duration(r)
}
