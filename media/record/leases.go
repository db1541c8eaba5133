package record

import "sync"

// Leases keeps segments that are being read (an export, a playlist, a
// download) from being deleted by retention. Each Acquire must be matched by
// a Release of the same IDs; a segment is held while any lease on it is.
// The zero value is ready to use and safe for concurrent use.
type Leases struct {
	mu   sync.Mutex
	held map[int64]int
}

// Acquire takes a lease on each segment ID.
func (l *Leases) Acquire(ids []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = make(map[int64]int)
	}
	for _, id := range ids {
		l.held[id]++
	}
}

// Release gives back a lease taken with Acquire.
func (l *Leases) Release(ids []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		switch n := l.held[id]; {
		case n > 1:
			l.held[id] = n - 1
		case n == 1:
			delete(l.held, id)
		}
	}
}

// Held reports whether a segment is leased.
func (l *Leases) Held(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[id] > 0
}
