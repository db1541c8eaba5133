package flv

import (
	"log/slog"
	"time"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// maxKeptBuffer is the largest batch buffer a viewer keeps between batches:
// enough for a batch of a few ordinary frames. The first batch (a whole GOP)
// can be megabytes; keeping that for each of a thousand viewers would pin
// gigabytes, so a bigger buffer is dropped after use.
const maxKeptBuffer = 256 << 10

// warnInterval limits how often per-unit problems are logged per viewer.
const warnInterval = 10 * time.Second

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
	buf []byte

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

// start chooses the tracks and returns the file header, onMetaData and the
// sequence headers. The first video and the first audio track FLV can carry
// are chosen; the parameters are those of the batch's first unit of each
// track (the stream's current ones for a track without units yet), so that
// the sequence header matches the first picture.
func (m *muxer) start(batch []*unit.Unit) []byte {
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
	for _, u := range batch {
		if u.Params == nil {
			continue
		}
		if k := kindOf(u.Params.Codec); k >= 0 && m.track[k] < 0 {
			m.track[k] = u.Track
		}
	}
	var seen [numKinds]bool
	for _, u := range batch {
		for k := range numKinds {
			if u.Params != nil && u.Track == m.track[k] && !seen[k] {
				seen[k], params[k] = true, u.Params
			}
		}
	}
	if len(batch) > 0 {
		m.lastTS = flvcodec.Timestamp(batch[0].DTS)
	}

	b := flvcodec.Header{HasVideo: params[kindVideo] != nil, HasAudio: params[kindAudio] != nil}.Append(nil)
	b, err := flvcodec.AppendMetadata(b, params[kindVideo], params[kindAudio])
	if err != nil {
		m.log.Warn("cannot write FLV metadata", "error", err)
	}
	for k, p := range params {
		if p != nil {
			b = m.appendSequenceHeader(b, k, p, m.lastTS)
		}
	}
	m.log.Debug("FLV viewer started", "video", paramString(params[kindVideo]), "audio", paramString(params[kindAudio]))
	return b
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

// appendBatch returns the tags of a batch in the muxer's buffer, which is
// valid until the next call.
func (m *muxer) appendBatch(batch []*unit.Unit) []byte {
	if cap(m.buf) > maxKeptBuffer {
		m.buf = nil
	}
	b := m.buf[:0]
	for _, u := range batch {
		b = m.appendUnit(b, u)
	}
	m.buf = b
	return b
}

func (m *muxer) appendUnit(b []byte, u *unit.Unit) []byte {
	if u.Params == nil {
		return b
	}
	k := kindOf(u.Params.Codec)
	if k < 0 {
		return b // another codec on a track we do not carry
	}
	if m.track[k] < 0 {
		// A track that appeared after the start; the header did not
		// announce it, but players that probe (FFmpeg, mpegts.js) use it.
		m.track[k] = u.Track
	}
	if u.Track != m.track[k] {
		return b
	}
	if k == kindVideo && m.needKey {
		if !u.Key {
			m.skipped++
			return b
		}
		m.needKey = false
	}
	tags := flvcodec.UnitTags(u)
	if tags == nil {
		m.skipped++
		m.warn("unit cannot be carried in FLV", "track", u.Track, "codec", u.Params.Codec.String(), "bytes", u.Size())
		return b
	}
	ts := flvcodec.Timestamp(u.DTS)
	if flvcodec.TimestampBefore(ts, m.lastTS) {
		ts = m.lastTS
	}
	// Parameters change rarely, and a publisher that reconnects brings new
	// but equal ones: only a real change needs a new sequence header.
	if p := m.params[k]; u.Params != p {
		if p == nil || !p.Equal(u.Params) {
			b = m.appendSequenceHeader(b, k, u.Params, ts)
		} else {
			m.params[k] = u.Params
		}
	}
	start := len(b)
	b = append(b, tags...)
	// The shared tags carry the unit's own DTS; this private copy is raised
	// where another track is already ahead (audio that arrived late).
	var raised int
	m.lastTS, raised = flvcodec.RaiseTimestamps(b[start:], m.lastTS)
	if raised > 0 {
		m.clamped++
	}
	m.units++
	return b
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
