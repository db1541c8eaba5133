package ps

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Conn is the local end of one stream, from Open to Close: it receives the
// RTP of one INVITE. Call SetRemote with the device's answer, then Run.
type Conn struct {
	r         *Receiver
	transport Transport
	port      int
	offerSSRC uint32
	log       *slog.Logger

	// The local endpoint, one of these.
	udp    *net.UDPConn     // a port of the range
	shared *sharedPort      // the single port
	ch     chan *datagram   // datagrams routed to this Conn by the shared port
	ln     *net.TCPListener // TCP passive

	mu         sync.Mutex
	remote     string     // the answer's address
	remoteAddr netip.Addr // its IP, when it is one
	answerSSRC uint32
	checkSSRC  bool
	running    bool
	closed     bool
	stop       chan struct{} // closed by Close
	tcp        net.Conn      // the TCP connection while Run has one

	cnt counters
}

func newConn(r *Receiver, t Transport, ssrc uint32) *Conn {
	c := &Conn{r: r, transport: t, offerSSRC: ssrc, checkSSRC: true, stop: make(chan struct{})}
	c.cnt.ssrc.Store(ssrc)
	return c
}

// LocalPort returns the port to announce in the offer.
func (c *Conn) LocalPort() int { return c.port }

// Transport returns the Conn's transport.
func (c *Conn) Transport() Transport { return c.transport }

// SetRemote applies the device's answer: addr is its media address
// ("ip:port", needed for TCP active), ssrc the SSRC of its y= line (0 when it
// gave none). With checkSSRC, packets must carry the SSRC of the offer or of
// the answer, or with an answer of 0 the first SSRC seen; without it any
// SSRC is taken, one at a time. Call it before Run.
func (c *Conn) SetRemote(addr string, ssrc uint32, checkSSRC bool) {
	c.mu.Lock()
	c.remote, c.answerSSRC, c.checkSSRC = addr, ssrc, checkSSRC
	c.remoteAddr = netip.Addr{}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		c.remoteAddr = ap.Addr().Unmap()
	} else if a, err := netip.ParseAddr(addr); err == nil {
		c.remoteAddr = a.Unmap()
	}
	c.mu.Unlock()
	if addr != "" {
		c.cnt.remote.Store(&addr)
	}
	if ssrc != 0 {
		c.cnt.ssrc.Store(ssrc)
	}
	if c.shared == nil {
		return
	}
	// On the shared port the answer's SSRC must be routed here too; with
	// none (or no check) the first unknown SSRC from the device is.
	if ssrc != 0 && ssrc != c.offerSSRC {
		if err := c.shared.register(ssrc, c); err != nil {
			c.log.Warn("the answer's SSRC belongs to another stream on the shared port", "answer_ssrc", ssrc, "err", err)
			c.shared.setPending(c)
			return
		}
	}
	if ssrc == 0 || !checkSSRC {
		c.shared.setPending(c)
	}
}

// remoteIP returns the IP of the answer's address (invalid when unknown).
func (c *Conn) remoteIP() netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteAddr
}

// Stats returns the counters of the Conn.
func (c *Conn) Stats() Stats {
	st := Stats{
		Transport:  c.transport,
		LocalPort:  c.port,
		SSRC:       c.cnt.ssrc.Load(),
		Packets:    c.cnt.packets.Load(),
		Bytes:      c.cnt.bytes.Load(),
		Lost:       c.cnt.lost.Load(),
		Reordered:  c.cnt.reordered.Load(),
		Duplicates: c.cnt.duplicates.Load(),
		Late:       c.cnt.late.Load(),
		Dropped:    c.cnt.dropped.Load(),
		Frames:     c.cnt.frames.Load(),
	}
	if r := c.cnt.remote.Load(); r != nil {
		st.RemoteAddr = *r
	}
	if t := c.cnt.lastPacket.Load(); t != 0 {
		st.LastPacket = time.Unix(0, t)
	}
	return st
}

// Close releases the local endpoint (the port goes back to the pool) and
// stops Run. It is idempotent.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.stop)
	tcp := c.tcp
	c.mu.Unlock()

	if tcp != nil {
		tcp.Close()
	}
	switch {
	case c.shared != nil:
		c.shared.unregister(c)
	case c.udp != nil:
		c.udp.Close()
		c.r.pool.Release(c.port)
	case c.ln != nil:
		c.ln.Close()
		c.r.pool.Release(c.port)
	default:
		c.r.pool.Release(c.port)
	}
	return nil
}

// setTCP records the TCP connection Run uses, so that Close can close it.
// It fails when the Conn was closed meanwhile.
func (c *Conn) setTCP(tc net.Conn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("conn: %w", ErrClosed)
	}
	c.tcp = tc
	return nil
}

// answer returns what SetRemote recorded.
func (c *Conn) answer() (addr string, ssrc uint32, check bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote, c.answerSSRC, c.checkSSRC
}
