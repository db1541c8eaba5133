package ps

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
)

// DefaultReadBuffer is the UDP receive buffer asked of the kernel for each
// media socket: about 16 s of a 2 Mbit/s stream, so that a burst (a
// keyframe of a 4K camera is often 1 MB) or a short stall of the reading
// goroutine loses nothing. Linux caps it at net.core.rmem_max.
const DefaultReadBuffer = 4 << 20

// Receiver receives GB28181 media: PS over RTP on UDP (a port per stream
// from the range, or one shared port where streams are told apart by SSRC),
// TCP passive (we listen) or TCP active (we connect). Set the fields, then
// call Initialize; Open a Conn per INVITE. It is safe for concurrent use.
type Receiver struct {
	// ListenIP is the address media sockets bind to; "" binds every
	// interface.
	ListenIP string
	// PortLo and PortHi bound the port range (inclusive) handed out per
	// stream.
	PortLo, PortHi int
	// SinglePort, when not 0, is one UDP port shared by every UDP stream,
	// which are told apart by SSRC. TCP streams still take ports from the
	// range.
	SinglePort int
	// ReadBuffer is the UDP receive buffer asked for (default
	// DefaultReadBuffer).
	ReadBuffer int
	// Logger receives the receiver's logs, tagged component=ps. Nil
	// discards.
	Logger *slog.Logger

	log    *slog.Logger
	pool   *PortPool
	shared *sharedPort

	mu      sync.Mutex
	closed  bool
	warnBuf sync.Once
}

// Initialize checks the configuration and opens the shared port.
func (r *Receiver) Initialize() error {
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	r.log = r.Logger.With("component", "ps")
	if r.ReadBuffer <= 0 {
		r.ReadBuffer = DefaultReadBuffer
	}
	pool, err := NewPortPool(r.ListenIP, r.PortLo, r.PortHi)
	if err != nil {
		return err
	}
	r.pool = pool
	if r.SinglePort != 0 {
		if r.SinglePort < 1 || r.SinglePort > 65535 {
			return fmt.Errorf("invalid single media port %d", r.SinglePort)
		}
		c, err := net.ListenUDP(pool.network("udp"), pool.udpAddr(r.SinglePort))
		if err != nil {
			return fmt.Errorf("single media port: %w", err)
		}
		r.setReadBuffer(c)
		r.shared = newSharedPort(c, r.log)
		go r.shared.run()
		r.log.Info("listening on the single media port", "port", r.SinglePort)
	}
	return nil
}

// Close closes the shared port. Conns opened before must still be closed by
// their owners; Open fails afterwards.
func (r *Receiver) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	if r.shared != nil {
		r.shared.close()
	}
}

// PortsInUse returns how many ports of the range are handed out.
func (r *Receiver) PortsInUse() int { return r.pool.InUse() }

// SharedDropped returns how many datagrams the shared port could not route
// to a stream (unknown SSRC, not RTP).
func (r *Receiver) SharedDropped() uint64 {
	if r.shared == nil {
		return 0
	}
	return r.shared.dropped.Load()
}

// Open reserves the local end of a stream: a UDP socket from the range (or
// the shared port, routing ssrc, the SSRC of our offer, to the Conn), a TCP
// listener for TCP passive, or a port number to announce for TCP active.
func (r *Receiver) Open(t Transport, ssrc uint32) (*Conn, error) {
	t, err := t.norm()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("receiver: %w", ErrClosed)
	}
	c := newConn(r, t, ssrc)
	switch {
	case t == TransportUDP && r.shared != nil:
		c.shared = r.shared
		c.port = r.SinglePort
		c.ch = make(chan *datagram, sharedQueue)
	case t == TransportUDP:
		u, port, err := r.pool.ListenUDP()
		if err != nil {
			return nil, err
		}
		r.setReadBuffer(u)
		c.udp, c.port = u, port
	case t == TransportTCPPassive:
		l, port, err := r.pool.ListenTCP()
		if err != nil {
			return nil, err
		}
		c.ln, c.port = l, port
	default:
		port, err := r.pool.Reserve()
		if err != nil {
			return nil, err
		}
		c.port = port
	}
	c.log = r.log.With("transport", string(t), "port", c.port, "ssrc", ssrc)
	if c.shared != nil {
		if err := c.shared.register(ssrc, c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setReadBuffer asks for ReadBuffer and warns once when the kernel gives
// less.
func (r *Receiver) setReadBuffer(c *net.UDPConn) {
	if err := c.SetReadBuffer(r.ReadBuffer); err != nil {
		r.log.Warn("cannot set the UDP receive buffer", "err", err)
		return
	}
	if got, ok := readBuffer(c); ok && got < r.ReadBuffer {
		r.warnBuf.Do(func() {
			r.log.Warn("the kernel caps the UDP receive buffer: raise net.core.rmem_max to avoid losses in bursts",
				"asked", r.ReadBuffer, "got", got)
		})
	}
}

// listenIP is the address TCP active dials from, nil for any.
func (r *Receiver) listenIP() net.IP {
	a, err := netip.ParseAddr(r.ListenIP)
	if err != nil || a.IsUnspecified() {
		return nil
	}
	return a.AsSlice()
}

// errorsIsClosed reports whether err is the error of a closed socket.
func errorsIsClosed(err error) bool { return errors.Is(err, net.ErrClosed) }
