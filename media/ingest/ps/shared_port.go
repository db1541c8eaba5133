package ps

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/nvr/nvr/media/codec/rtp"
)

// sharedQueue is how many datagrams wait for a stream's goroutine on the
// shared port: about 2 s of a 4 Mbit/s stream. Beyond it they are dropped
// and counted; the shared reader never waits for one slow stream.
const sharedQueue = 1024

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// datagram is one packet read on the shared port, queued for its stream.
type datagram struct {
	b    []byte
	from netip.AddrPort
}

// sharedPort reads the single UDP port and routes each datagram to its
// stream by SSRC. A stream whose SSRC is not known in advance (an answer
// with SSRC 0, or no SSRC check) is pending: the first datagram with an
// unknown SSRC from its device's address (or from anywhere, when the
// answer had none) is routed to it, and that SSRC is then its own.
type sharedPort struct {
	conn *net.UDPConn
	log  *slog.Logger
	done chan struct{}
	pool sync.Pool

	mu      sync.RWMutex
	bySSRC  map[uint32]*Conn
	pending map[*Conn]struct{}

	dropped atomic.Uint64
}

func newSharedPort(c *net.UDPConn, log *slog.Logger) *sharedPort {
	return &sharedPort{
		conn:    c,
		log:     log,
		done:    make(chan struct{}),
		pool:    sync.Pool{New: func() any { return &datagram{b: make([]byte, 0, 1500)} }},
		bySSRC:  make(map[uint32]*Conn),
		pending: make(map[*Conn]struct{}),
	}
}

func (s *sharedPort) close() {
	s.conn.Close()
	<-s.done
}

// run reads datagrams until the socket is closed.
func (s *sharedPort) run() {
	defer close(s.done)
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errorsIsClosed(err) {
				return
			}
			s.log.Warn("single media port read", "err", err)
			continue
		}
		b := buf[:n]
		ssrc, ok := rtp.PeekSSRC(b)
		if !ok {
			s.dropped.Add(1)
			continue
		}
		c := s.route(ssrc, from.Addr())
		if c == nil {
			s.dropped.Add(1)
			continue
		}
		d := s.pool.Get().(*datagram)
		d.b = append(d.b[:0], b...)
		d.from = from
		select {
		case c.ch <- d:
		default:
			c.cnt.dropped.Add(1)
			s.put(d)
		}
	}
}

// route finds the stream of a datagram.
func (s *sharedPort) route(ssrc uint32, from netip.Addr) *Conn {
	s.mu.RLock()
	c := s.bySSRC[ssrc]
	np := len(s.pending)
	s.mu.RUnlock()
	if c != nil || np == 0 {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.bySSRC[ssrc]; c != nil {
		return c
	}
	var found *Conn
	for p := range s.pending {
		ip := p.remoteIP()
		if ip.IsValid() && ip != from.Unmap() {
			continue
		}
		if found != nil {
			return nil // ambiguous: two streams could take it
		}
		found = p
	}
	if found != nil {
		s.bySSRC[ssrc] = found
		delete(s.pending, found)
		found.log.Info("routing an unannounced SSRC to the stream", "routed_ssrc", ssrc, "from", from)
	}
	return found
}

// register routes ssrc to c.
func (s *sharedPort) register(ssrc uint32, c *Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.bySSRC[ssrc]; o != nil && o != c {
		return fmt.Errorf("%w: %d", ErrSSRCInUse, ssrc)
	}
	s.bySSRC[ssrc] = c
	return nil
}

// setPending makes c take the first unknown SSRC from its device.
func (s *sharedPort) setPending(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[c] = struct{}{}
}

// unregister forgets every route to c.
func (s *sharedPort) unregister(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ssrc, o := range s.bySSRC {
		if o == c {
			delete(s.bySSRC, ssrc)
		}
	}
	delete(s.pending, c)
}

// put returns a datagram's buffer.
func (s *sharedPort) put(d *datagram) {
	if cap(d.b) > 16<<10 {
		return // do not keep a jumbo buffer for ordinary packets
	}
	s.pool.Put(d)
}
