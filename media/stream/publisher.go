package stream

import (
	"time"

	"github.com/nvr/nvr/media/unit"
)

// maxJump is the largest gap between two units of one track that is taken as
// real time. Anything larger (a camera clock jump, a wrap, a restart inside
// the source) is treated as a discontinuity and smoothed over, so outputs
// always see rising timestamps.
const maxJump = 10 * time.Second

// Publisher writes units into a stream. One Publisher is one session of a
// source (one RTSP connection, one INVITE); a source that reconnects makes a
// new Publisher and the stream's readers carry on, with timestamps that keep
// rising. A Publisher is used by one goroutine.
type Publisher struct {
	s       *Stream
	tracks  []*pubTrack
	offset  time.Duration // added to source timestamps to get stream time
	started bool
	waitKey bool // drop video until the session's first keyframe
}

type pubTrack struct {
	params  *unit.Params
	lastDTS time.Duration // stream time
	step    time.Duration // last DTS increment, used to bridge a discontinuity
	seen    bool
}

// NewPublisher starts a publishing session on s.
func (s *Stream) NewPublisher() *Publisher {
	return &Publisher{s: s, waitKey: true}
}

// Stream returns the stream this publisher writes to.
func (p *Publisher) Stream() *Stream { return p.s }

// SetTrack declares track i or changes its codec parameters. Units written
// afterwards carry the new parameters; readers see the change at that unit.
// Setting parameters equal to the current ones does nothing.
func (p *Publisher) SetTrack(i int, params *unit.Params) {
	for len(p.tracks) <= i {
		p.tracks = append(p.tracks, &pubTrack{})
	}
	t := p.tracks[i]
	if t.params.Equal(params) {
		return
	}
	if t.params != nil {
		p.s.log.Info("codec parameters changed", "track", i, "from", t.params.String(), "to", params.String())
	}
	t.params = params
	p.s.setTrack(i, params)
}

// Params returns the current parameters of track i, or nil.
func (p *Publisher) Params(i int) *unit.Params {
	if i < len(p.tracks) {
		return p.tracks[i].params
	}
	return nil
}

// Write adds a unit. u.Track must have been declared with SetTrack; Write
// fills u.Params. u.DTS and u.PTS are in the source's own time base (any
// origin); Write turns them into stream time. u.Time defaults to now.
// Video before the session's first keyframe is dropped: a decoder could not
// use it. Write never blocks on readers. u must not be modified afterwards.
func (p *Publisher) Write(u *unit.Unit) {
	if u.Track >= len(p.tracks) || p.tracks[u.Track].params == nil {
		return
	}
	t := p.tracks[u.Track]
	u.Params = t.params
	if p.waitKey && u.Params.Codec.IsVideo() {
		if !u.Key {
			return
		}
		p.waitKey = false
	}
	if u.Time.IsZero() {
		u.Time = time.Now()
	}
	if !p.started {
		p.started = true
		p.s.mu.RLock()
		last, any := p.s.lastDTS, p.s.next > 0
		p.s.mu.RUnlock()
		// A new session continues the stream's timeline a little after its
		// last unit; the very first session starts at zero.
		base := time.Duration(0)
		if any {
			base = last + 40*time.Millisecond
		}
		p.offset = base - u.DTS
	}
	dts := u.DTS + p.offset
	if t.seen {
		d := dts - t.lastDTS
		if d < 0 || d > maxJump {
			// Discontinuity: re-base the whole session so this unit lands one
			// step after the track's previous one, keeping tracks in sync.
			step := t.step
			if step <= 0 || step > time.Second {
				step = 40 * time.Millisecond
			}
			p.offset += t.lastDTS + step - dts
			p.s.log.Debug("timestamp discontinuity", "track", u.Track, "jump", d)
			dts = u.DTS + p.offset
		} else if d > 0 {
			t.step = d
		}
	}
	t.seen = true
	t.lastDTS = dts
	u.PTS = u.PTS + p.offset
	if u.PTS < dts {
		u.PTS = dts
	}
	u.DTS = dts
	p.s.write(u)
}
