// Package stream is the heart of the media core: a Stream holds the recent
// access units of one live channel in a ring, a Publisher writes them, and
// any number of Readers follow them, each at its own pace.
//
// One ring per stream holds every track's units in arrival order, so a reader
// that muxes audio and video together (FLV, fMP4) gets them interleaved as
// they arrived without merging cursors. The ring remembers the last video
// keyframe (the GOP cache): a new reader starts there at once. The writer
// never waits for a reader; a reader that falls a whole ring behind skips to
// the newest keyframe and the units it missed are counted as dropped.
package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nvr/nvr/media/unit"
)

// ErrClosed is returned by Reader.Read once the stream is closed and the
// reader has consumed every unit written before the close.
var ErrClosed = errors.New("stream closed")

// DefaultRingSize is the ring capacity in units when none is given: about
// 25 s of 25 fps video with AAC, far more than a GOP of any sane camera.
const DefaultRingSize = 2048

// maxBatch bounds how many units one Read returns, so that a reader that
// wakes after a long stall still interleaves writes with checks of its context.
const maxBatch = 256

// Stream is one live media stream. It is safe for concurrent use.
type Stream struct {
	name string
	log  *slog.Logger
	mask uint64

	mu       sync.RWMutex
	buf      []*unit.Unit
	next     uint64 // sequence number of the next unit written
	tail     uint64 // oldest sequence number still held
	lastKey  uint64 // sequence number of the newest video keyframe
	hasKey   bool
	hasVideo bool // a video track was declared or seen
	wake     chan struct{}
	closed   bool
	done     chan struct{}
	tracks   []*unit.Params
	readers  map[*Reader]struct{}
	lastDTS  time.Duration // DTS of the newest unit, stream time
	started  time.Time
	lastUnit time.Time
	meter    meter

	dropped atomic.Uint64 // units skipped by all readers, ever
}

// New returns an empty stream holding up to ringSize units (rounded up to a
// power of two; 0 means DefaultRingSize).
func New(name string, ringSize int, log *slog.Logger) *Stream {
	if ringSize <= 0 {
		ringSize = DefaultRingSize
	}
	size := 1
	for size < ringSize {
		size <<= 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stream{
		name:    name,
		log:     log.With("stream", name),
		mask:    uint64(size - 1),
		buf:     make([]*unit.Unit, size),
		wake:    make(chan struct{}),
		done:    make(chan struct{}),
		readers: make(map[*Reader]struct{}),
		started: time.Now(),
	}
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// Close ends the stream: readers receive what is left, then ErrClosed.
// Close is idempotent.
func (s *Stream) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	w := s.wake
	s.mu.Unlock()
	close(w)
	close(s.done)
}

// Closed reports whether Close was called.
func (s *Stream) Closed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// Done returns a channel that is closed when the stream is closed.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Tracks returns the newest parameters of every track, indexed by track.
// An entry is nil for a track that has not been declared.
func (s *Stream) Tracks() []*unit.Params {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*unit.Params(nil), s.tracks...)
}

// Ready reports whether a new reader would get something decodable at once:
// a video keyframe is in the ring, or the stream is audio-only and has units.
func (s *Stream) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.readyLocked()
}

func (s *Stream) readyLocked() bool {
	if s.hasVideo {
		return s.hasKey && s.lastKey >= s.tail
	}
	return s.next > s.tail
}

// WaitReady blocks until Ready, the stream closes (ErrClosed) or ctx ends.
func (s *Stream) WaitReady(ctx context.Context) error {
	for {
		s.mu.RLock()
		ready, closed, w := s.readyLocked(), s.closed, s.wake
		s.mu.RUnlock()
		switch {
		case ready:
			return nil
		case closed:
			return ErrClosed
		}
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write appends u to the ring and wakes the readers. u must be complete.
func (s *Stream) write(u *unit.Unit) {
	now := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	seq := s.next
	s.buf[seq&s.mask] = u
	s.next++
	if s.next-s.tail > uint64(len(s.buf)) {
		s.tail = s.next - uint64(len(s.buf))
	}
	if u.DTS > s.lastDTS {
		s.lastDTS = u.DTS
	}
	s.lastUnit = now
	s.meter.add(now, u)
	if u.IsVideo() {
		s.hasVideo = true
		if u.Key {
			s.lastKey, s.hasKey = seq, true
			s.trimLocked()
		}
	}
	w := s.wake
	s.wake = make(chan struct{})
	s.mu.Unlock()
	close(w)
}

// trimLocked releases the units that no reader can reach any more: those
// before the newest keyframe and before every reader's cursor. Without it an
// idle stream would pin a whole ring of frames in memory instead of one GOP.
func (s *Stream) trimLocked() {
	upTo := s.lastKey
	for r := range s.readers {
		if r.next < upTo {
			upTo = r.next
		}
	}
	for ; s.tail < upTo; s.tail++ {
		s.buf[s.tail&s.mask] = nil
	}
}

// setTrack records the parameters of a track.
func (s *Stream) setTrack(i int, p *unit.Params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.tracks) <= i {
		s.tracks = append(s.tracks, nil)
	}
	s.tracks[i] = p
	if p != nil && p.Codec.IsVideo() {
		s.hasVideo = true
	}
}
