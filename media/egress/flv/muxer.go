package flv

import (
	"log/slog"
	"time"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// warnInterval limits how often per-unit problems are logged per viewer.
const warnInterval = 10 * time.Second

// Sizes of the FLV tag framing (E.4.1, E.3): the tag header (TagType,
// DataSize, Timestamp, TimestampExtended, StreamID) and the PreviousTagSize
// after each tag.
const (
	tagHeaderSize   = 11
	prevTagSizeSize = 4
)

// FLV carries one video and one audio track.
const (
	kindVideo = iota
	kindAudio
	numKinds
)

// muxer turns the units of one viewer's reader into FLV bytes.
type muxer struct {
	s   *stream.Stream
	log *slog.Logger

	started bool
	track   [numKinds]int          // chosen track index, -1 for none
	params  [numKinds]*unit.Params // parameters of the last sequence header
	needKey bool                   // drop video until a keyframe
	lastTS  uint32                 // timestamp of the last tag written

	units, skipped, clamped uint64
	lastWarn                time.Time
}

func newMuxer(s *stream.Stream, log *slog.Logger) *muxer {
	return &muxer{s: s, log: log, track: [numKinds]int{-1, -1}, needKey: true}
}

// kindOf returns the FLV kind of a codec, or -1 if FLV cannot carry it.
func kindOf(c unit.Codec) int {
	switch {
	case !flvcodec.Supported(c):
		return -1
	case c.IsVideo():
		return kindVideo
	}
	return kindAudio
}

// start chooses the tracks and adds the file header, onMetaData and the
// sequence headers to out. The first video and the first audio track FLV
// can carry are chosen; the parameters are those of the first unit of each
// track in units (the stream's current ones for a track without units
// yet), so that the sequence header matches the first picture.
func (m *muxer) start(units []*unit.Unit, out *batch) {
	m.started = true
	tracks := m.s.Tracks()
	var params [numKinds]*unit.Params
	for i, p := range tracks {
		if p == nil {
			continue
		}
		if k := kindOf(p.Codec); k >= 0 && m.track[k] < 0 {
			m.track[k], params[k] = i, p
		}
	}
	// A unit on a track that was not declared when the stream's track list
	// was read (it cannot happen with a Publisher, which declares first).
	for _, u := range units {
		if u.Params == nil {
			continue
		}
		if k := kindOf(u.Params.Codec); k >= 0 && m.track[k] < 0 {
			m.track[k] = u.Track
		}
	}
	var seen [numKinds]bool
	for _, u := range units {
		for k := range numKinds {
			if u.Params != nil && u.Track == m.track[k] && !seen[k] {
				seen[k], params[k] = true, u.Params
			}
		}
	}
	if len(units) > 0 {
		m.lastTS = flvcodec.Timestamp(units[0].DTS)
	}

	from := len(out.own)
	b := flvcodec.Header{HasVideo: params[kindVideo] != nil, HasAudio: params[kindAudio] != nil}.Append(out.own)
	b, err := flvcodec.AppendMetadata(b, params[kindVideo], params[kindAudio])
	if err != nil {
		m.log.Warn("cannot write FLV metadata", "error", err)
	}
	for k, p := range params {
		if p != nil {
			b = m.appendSequenceHeader(b, k, p, m.lastTS)
		}
	}
	out.own = b
	out.addOwn(from)
	m.log.Debug("FLV viewer started", "video", paramString(params[kindVideo]), "audio", paramString(params[kindAudio]))
}

func paramString(p *unit.Params) string {
	if p == nil {
		return "none"
	}
	return p.String()
}

// appendSequenceHeader appends the sequence header of kind k and remembers
// its parameters, even on error: the warning is not repeated per unit.
func (m *muxer) appendSequenceHeader(b []byte, k int, p *unit.Params, ts uint32) []byte {
	m.params[k] = p
	b2, err := flvcodec.AppendSequenceHeader(b, p, ts)
	if err != nil {
		m.warn("cannot write FLV sequence header", "params", p.String(), "error", err)
		return b
	}
	return b2
}

// appendBatch adds the tags of units to out.
func (m *muxer) appendBatch(units []*unit.Unit, out *batch) {
	for _, u := range units {
		m.appendUnit(out, u)
	}
}

func (m *muxer) appendUnit(out *batch, u *unit.Unit) {
	if u.Params == nil {
		return
	}
	k := kindOf(u.Params.Codec)
	if k < 0 {
		return // another codec on a track we do not carry
	}
	if m.track[k] < 0 {
		// A track that appeared after the start; the header did not
		// announce it, but players that probe (FFmpeg, mpegts.js) use it.
		m.track[k] = u.Track
	}
	if u.Track != m.track[k] {
		return
	}
	if k == kindVideo && m.needKey {
		if !u.Key {
			m.skipped++
			return
		}
		m.needKey = false
	}
	tags := flvcodec.UnitTags(u)
	if tags == nil {
		m.skipped++
		m.warn("unit cannot be carried in FLV", "track", u.Track, "codec", u.Params.Codec.String(), "bytes", u.Size())
		return
	}
	// Parameters change rarely, and a publisher that reconnects brings new
	// but equal ones: only a real change needs a new sequence header.
	if p := m.params[k]; u.Params != p {
		if p == nil || !p.Equal(u.Params) {
			ts := flvcodec.Timestamp(u.DTS)
			if flvcodec.TimestampBefore(ts, m.lastTS) {
				ts = m.lastTS
			}
			from := len(out.own)
			out.own = m.appendSequenceHeader(out.own, k, u.Params, ts)
			out.addOwn(from)
		} else {
			m.params[k] = u.Params
		}
	}
	if m.addTags(out, tags) > 0 {
		m.clamped++
	}
	if k == kindVideo {
		out.video = true
	}
	m.units++
}

// addTags adds the shared tags of a unit to out. The tags carry the unit's
// own DTS; where another track is already ahead (audio that arrived late),
// the timestamp is raised to the last one written so that it never goes
// backwards, in a private copy of that tag's header: the body stays shared.
// It returns how many tags it raised. Malformed bytes (which UnitTags does
// not make) are passed on as they are from the first tag that does not fit.
func (m *muxer) addTags(out *batch, tags []byte) (raised int) {
	from := 0 // start of the shared bytes not yet added
	for off := 0; len(tags)-off >= tagHeaderSize+prevTagSizeSize; {
		t := tags[off:]
		size := int(t[1])<<16 | int(t[2])<<8 | int(t[3])
		total := tagHeaderSize + size + prevTagSizeSize
		if total > len(t) {
			break
		}
		ts := uint32(t[4])<<16 | uint32(t[5])<<8 | uint32(t[6]) | uint32(t[7])<<24
		if flvcodec.TimestampBefore(ts, m.lastTS) {
			ts = m.lastTS
			out.addShared(tags[from:off])
			start := len(out.own)
			out.own = append(out.own, t[:tagHeaderSize]...)
			h := out.own[start:]
			h[4], h[5], h[6], h[7] = byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24)
			out.addOwn(start)
			from = off + tagHeaderSize
			raised++
		}
		m.lastTS = ts
		off += total
	}
	out.addShared(tags[from:])
	return raised
}

// warn logs a per-unit problem at most once per warnInterval.
func (m *muxer) warn(msg string, args ...any) {
	now := time.Now()
	if now.Sub(m.lastWarn) < warnInterval {
		return
	}
	m.lastWarn = now
	m.log.Warn(msg, append(args, "skipped", m.skipped)...)
}
