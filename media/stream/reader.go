package stream

import (
	"context"
	"sync/atomic"

	"github.com/nvr/nvr/media/unit"
)

// Reader follows a stream from the newest keyframe on. A Reader is used by
// one goroutine; Close may be called from any.
type Reader struct {
	s       *Stream
	next    uint64 // guarded by s.mu (written under RLock by the reader only)
	waitKey bool   // skip units until a video keyframe
	dropped atomic.Uint64
	batch   []*unit.Unit
}

// NewReader returns a reader positioned at the newest keyframe in the ring,
// so that its first video unit is one a decoder can start from. With no
// keyframe yet it starts at the next unit and skips to the first keyframe.
func (s *Stream) NewReader() *Reader {
	r := &Reader{s: s, batch: make([]*unit.Unit, 0, 32)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hasKey && s.lastKey >= s.tail {
		r.next = s.lastKey
	} else {
		r.next = s.next
		r.waitKey = true
	}
	s.readers[r] = struct{}{}
	return r
}

// Readers returns the number of open readers.
func (s *Stream) Readers() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.readers)
}

// Close detaches the reader from the stream. It is idempotent.
func (r *Reader) Close() {
	r.s.mu.Lock()
	delete(r.s.readers, r)
	r.s.mu.Unlock()
}

// Dropped returns how many units this reader skipped because it fell behind.
func (r *Reader) Dropped() uint64 {
	return r.dropped.Load()
}

// Read returns the next units in write order, waiting for at least one. The
// returned slice is reused by the next call; the units themselves are
// immutable and may be kept. It returns ErrClosed after the stream closed and
// everything before the close was read, or ctx's error.
func (r *Reader) Read(ctx context.Context) ([]*unit.Unit, error) {
	s := r.s
	for {
		s.mu.RLock()
		if r.next < s.tail {
			r.skipLocked()
		}
		if r.next < s.next {
			r.batch = r.batch[:0]
			for ; r.next < s.next && len(r.batch) < maxBatch; r.next++ {
				u := s.buf[r.next&s.mask]
				if r.waitKey {
					if u.IsVideo() && u.Key || !u.IsVideo() && !s.hasVideo {
						r.waitKey = false
					} else {
						continue
					}
				}
				r.batch = append(r.batch, u)
			}
			s.mu.RUnlock()
			if len(r.batch) > 0 {
				return r.batch, nil
			}
			continue
		}
		closed, w := s.closed, s.wake
		s.mu.RUnlock()
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-w:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// skipLocked moves a reader that fell behind the ring to the newest keyframe,
// or to the head if that keyframe is gone too, and counts what it missed.
// Called with s.mu read-locked: next and dropped belong to this reader alone.
func (r *Reader) skipLocked() {
	s := r.s
	to := s.next
	if s.hasKey && s.lastKey >= s.tail {
		to = s.lastKey
	} else {
		r.waitKey = true
	}
	n := to - r.next
	r.dropped.Add(n)
	s.dropped.Add(n)
	r.next = to
	s.log.Debug("reader fell behind, skipped to keyframe", "dropped", n)
}
