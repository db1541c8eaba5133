package record

import (
	"sync"
	"time"
)

// openSegment is a segment the recorder started. It is immutable and shared
// by the reading goroutine, which fills it, and the writing one.
type openSegment struct {
	stream  string
	path    string // final path; the file is written at path+partSuffix
	start   time.Time
	init    []byte
	codecs  string
	refRate uint32 // timescale of the reference track (track 0 of the init)
}

// job is one thing for the writer to do: write a fragment of a segment or,
// with a nil frag, close the segment.
type job struct {
	seg  *openSegment
	frag *fragment
}

// queue is the bounded queue between the goroutine that reads the stream and
// the one that writes files. Fragments are refused when the queue holds more
// than max bytes, so a slow disk costs whole fragments instead of stalling
// the stream reader; closing a segment is never refused (it costs nothing).
type queue struct {
	max int

	mu     sync.Mutex
	jobs   []job
	bytes  int
	closed bool
	wake   chan struct{}
}

func newQueue(maxBytes int) *queue {
	return &queue{max: maxBytes, wake: make(chan struct{}, 1)}
}

// put adds a job; it returns false when a fragment does not fit. A fragment
// always fits an empty queue, however large.
func (q *queue) put(j job) bool {
	q.mu.Lock()
	if j.frag != nil {
		n := len(j.frag.data)
		if q.bytes > 0 && q.bytes+n > q.max {
			q.mu.Unlock()
			return false
		}
		q.bytes += n
	}
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// get returns the next job, waiting for one; ok is false once the queue is
// closed and empty.
func (q *queue) get() (j job, ok bool) {
	for {
		q.mu.Lock()
		if len(q.jobs) > 0 {
			j = q.jobs[0]
			q.jobs[0] = job{}
			q.jobs = q.jobs[1:]
			if len(q.jobs) == 0 {
				q.jobs = nil // let the backing array go
			}
			q.mu.Unlock()
			return j, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return job{}, false
		}
		<-q.wake
	}
}

// done tells the queue that the writer finished with a fragment of n bytes:
// only then does it stop counting against the bound, so the bound covers
// the fragment being written too.
func (q *queue) done(n int) {
	q.mu.Lock()
	q.bytes -= n
	q.mu.Unlock()
}

// close makes get return false once the queue is empty.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// size returns the bytes waiting or being written.
func (q *queue) size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}
