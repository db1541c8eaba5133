package transport

import (
	"bytes"
	"net/netip"
	"sync"
)

// DefaultMaxHandlers is the default of Layer.MaxHandlers. When 5,000
// devices registered at once, a goroutine per request waiting for the
// database held its parsed request and a grown stack: 4,300 of them, 180
// MiB, and the heap they left fragmented kept the platform 20 MiB larger
// afterwards (docs/perf-gb28181.md). The database takes one write at a
// time; a few dozen requests in hand keep it and both cores busy.
const DefaultMaxHandlers = 64

// DefaultMaxBacklog is the default of Layer.MaxBacklog: requests received
// while every handler slot is taken, kept as raw bytes (a few hundred each)
// until a slot frees.
const DefaultMaxBacklog = 8192

// gate bounds the requests being decoded and handled at once. A request
// that finds every slot taken waits in a FIFO backlog as the bytes it came
// in, undecoded; a handler that finishes takes the next one with its slot.
// Readers never wait for a slot, so responses to the platform's own
// requests, which a handler may be waiting for, always get through. When
// the backlog is full a UDP request is dropped (the device retransmits)
// and a TCP reader waits.
type gate struct {
	mu         sync.Mutex
	cond       *sync.Cond // signalled when the backlog shrinks or the gate closes
	busy, max  int
	backlog    []waiting // FIFO; non-empty only while busy == max
	head       int       // index of the backlog's first entry
	maxBacklog int
	closed     bool
}

// waiting is a request received while no slot was free.
type waiting struct {
	data    []byte
	network string
	remote  netip.AddrPort
	reply   func([]byte) error
}

func newGate(maxBusy, maxBacklog int) *gate {
	g := &gate{max: maxBusy, maxBacklog: maxBacklog}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// enter takes a slot for w (run: the caller handles it now) or queues it;
// a queued UDP datagram is copied, as the reader reuses its buffer. With
// wait, a full backlog blocks instead of dropping w.
func (g *gate) enter(w waiting, wait bool) (run, dropped bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		if g.closed {
			return false, true
		}
		if g.busy < g.max {
			g.busy++
			return true, false
		}
		if len(g.backlog)-g.head < g.maxBacklog {
			if w.network == "UDP" {
				w.data = append([]byte(nil), w.data...)
			}
			g.backlog = append(g.backlog, w)
			return false, false
		}
		if !wait {
			return false, true
		}
		g.cond.Wait()
	}
}

// leave gives a slot back, or hands it to the first waiting request, which
// the caller must then handle.
func (g *gate) leave() (next waiting, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.head < len(g.backlog) && !g.closed {
		next = g.backlog[g.head]
		g.backlog[g.head] = waiting{}
		g.head++
		if g.head == len(g.backlog) { // drained: let a burst's array go
			g.backlog, g.head = nil, 0
		} else if g.head >= 1024 && g.head*2 >= len(g.backlog) {
			g.backlog = append([]waiting(nil), g.backlog[g.head:]...)
			g.head = 0
		}
		g.cond.Signal()
		return next, true
	}
	g.busy--
	return waiting{}, false
}

// close drops the backlog and wakes the readers waiting on it.
func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.backlog, g.head = nil, 0
	g.mu.Unlock()
	g.cond.Broadcast()
}

// queued returns how many requests wait.
func (g *gate) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.backlog) - g.head
}

// isRequest reports whether a message's start line is a request's: a
// response's starts with the SIP version. Keep-alive CRLFs before it are
// skipped.
func isRequest(data []byte) bool {
	data = bytes.TrimLeft(data, "\r\n")
	return len(data) > 0 && !bytes.HasPrefix(data, []byte("SIP/"))
}
