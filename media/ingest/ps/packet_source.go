package ps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/nvr/nvr/media/codec/rtp"
)

// dialTimeout bounds the connection to a device for TCP active.
const dialTimeout = 5 * time.Second

// Internal results of packetSource.next.
var (
	errTimeout = errors.New("deadline reached")
	errStopped = errors.New("stopped")
)

// packetSource yields the RTP packets of one Conn, whatever the transport.
type packetSource interface {
	// next returns the next packet, valid until the next call, and where it
	// came from (UDP only). It returns errTimeout at deadline, errStopped
	// after stop, or the error that ends the stream.
	next(deadline time.Time) ([]byte, netip.AddrPort, error)
	// stop makes next return errStopped promptly; it may be called from
	// any goroutine.
	stop()
	// close releases what the source opened itself.
	close()
}

// pastDeadline makes a blocked read return at once.
var pastDeadline = time.Unix(1, 0)

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// deadlines serializes setting read deadlines with stop, so that a stop
// cannot be undone by the next deadline the reader sets.
type deadlines struct {
	mu      sync.Mutex
	stopped bool
	set     time.Time
}

// apply sets d through set unless stopped; it skips a deadline already set.
func (g *deadlines) apply(d time.Time, set func(time.Time) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return errStopped
	}
	if !d.Equal(g.set) {
		if err := set(d); err != nil {
			return err
		}
		g.set = d
	}
	return nil
}

// timedOut turns a deadline error into errTimeout or, after stop, errStopped.
func (g *deadlines) timedOut() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return errStopped
	}
	return errTimeout
}

// forget makes the next apply set its deadline: the socket changed.
func (g *deadlines) forget() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.set = time.Time{}
}

// halt marks the source stopped and interrupts a read through set.
func (g *deadlines) halt(set func(time.Time) error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	g.set = pastDeadline
	if set != nil {
		_ = set(pastDeadline)
	}
}

// udpSource reads a UDP socket of the range.
type udpSource struct {
	c   *net.UDPConn
	buf []byte
	dl  deadlines
}

func (s *udpSource) next(deadline time.Time) ([]byte, netip.AddrPort, error) {
	if err := s.dl.apply(deadline, s.c.SetReadDeadline); err != nil {
		return nil, netip.AddrPort{}, closedErr(err)
	}
	n, from, err := s.c.ReadFromUDPAddrPort(s.buf)
	if err != nil {
		if isTimeout(err) {
			return nil, from, s.dl.timedOut()
		}
		return nil, from, closedErr(err)
	}
	return s.buf[:n], from, nil
}

func (s *udpSource) stop()  { s.dl.halt(s.c.SetReadDeadline) }
func (s *udpSource) close() {}

// closedErr turns the error of a socket closed by Conn.Close into ErrClosed.
func closedErr(err error) error {
	if errorsIsClosed(err) {
		return fmt.Errorf("conn: %w", ErrClosed)
	}
	return err
}

// sharedSource takes the datagrams the shared port routed to a Conn.
type sharedSource struct {
	sp       *sharedPort
	ch       <-chan *datagram
	closed   <-chan struct{} // Conn.Close
	stopped  chan struct{}
	stopOnce sync.Once
	timer    *time.Timer
	cur      *datagram
}

func newSharedSource(c *Conn) *sharedSource {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &sharedSource{sp: c.shared, ch: c.ch, closed: c.stop, stopped: make(chan struct{}), timer: t}
}

func (s *sharedSource) next(deadline time.Time) ([]byte, netip.AddrPort, error) {
	if s.cur != nil {
		s.sp.put(s.cur)
		s.cur = nil
	}
	select { // the common case, without touching the timer
	case d := <-s.ch:
		s.cur = d
		return d.b, d.from, nil
	default:
	}
	s.timer.Reset(time.Until(deadline))
	defer s.timer.Stop()
	select {
	case d := <-s.ch:
		s.cur = d
		return d.b, d.from, nil
	case <-s.timer.C:
		return nil, netip.AddrPort{}, errTimeout
	case <-s.stopped:
		return nil, netip.AddrPort{}, errStopped
	case <-s.closed:
		return nil, netip.AddrPort{}, fmt.Errorf("conn: %w", ErrClosed)
	}
}

func (s *sharedSource) stop() { s.stopOnce.Do(func() { close(s.stopped) }) }

func (s *sharedSource) close() {
	if s.cur != nil {
		s.sp.put(s.cur)
		s.cur = nil
	}
}

// tcpSource reads RTP framed on a TCP connection: accepted on the Conn's
// listener (passive) or dialled to the device (active).
type tcpSource struct {
	c      *Conn
	ctx    context.Context // bounds the dial
	active bool
	addr   string // the device's address, for TCP active

	dl   deadlines
	mu   sync.Mutex // guards conn against stop
	conn net.Conn
	fr   *rtp.FrameReader
	got  bool // a frame came on this connection
}

func (s *tcpSource) next(deadline time.Time) ([]byte, netip.AddrPort, error) {
	for {
		if s.fr == nil {
			if err := s.connect(deadline); err != nil {
				return nil, netip.AddrPort{}, err
			}
		}
		if err := s.dl.apply(deadline, s.conn.SetReadDeadline); err != nil {
			return nil, netip.AddrPort{}, closedErr(err)
		}
		b, err := s.fr.Next()
		if err == nil {
			s.got = true
			return b, netip.AddrPort{}, nil
		}
		if isTimeout(err) {
			return nil, netip.AddrPort{}, s.dl.timedOut()
		}
		if s.dl.timedOut() == errStopped {
			return nil, netip.AddrPort{}, errStopped
		}
		if !s.active && !s.got && !errorsIsClosed(err) {
			// Some devices open a connection, drop it and open another
			// before sending: wait for the next one.
			s.c.log.Info("the device closed its media connection before sending; waiting for another", "err", err)
			s.drop()
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, netip.AddrPort{}, ErrDisconnected
		}
		return nil, netip.AddrPort{}, fmt.Errorf("read: %w", closedErr(err))
	}
}

// connect accepts or dials the connection.
func (s *tcpSource) connect(deadline time.Time) error {
	var tc net.Conn
	if s.active {
		if s.addr == "" {
			return ErrNoAddress
		}
		d := net.Dialer{Timeout: dialTimeout}
		if ip := s.c.r.listenIP(); ip != nil {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		// Close interrupts the dial as well as Run's context.
		ctx, cancel := context.WithCancel(s.ctx)
		go func() {
			select {
			case <-s.c.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		var err error
		tc, err = d.DialContext(ctx, "tcp", s.addr)
		closed := ctx.Err() != nil && s.ctx.Err() == nil
		cancel()
		if err != nil {
			switch {
			case closed:
				return fmt.Errorf("conn: %w", ErrClosed)
			case s.ctx.Err() != nil:
				return errStopped
			}
			return fmt.Errorf("connect to the device at %s: %w", s.addr, err)
		}
	} else {
		ln := s.c.ln
		if err := s.dl.apply(deadline, ln.SetDeadline); err != nil {
			return closedErr(err)
		}
		s.dl.forget() // the next deadline is for the connection
		t, err := ln.AcceptTCP()
		if err != nil {
			if isTimeout(err) {
				return s.dl.timedOut()
			}
			return closedErr(err)
		}
		tc = t
	}
	if err := s.c.setTCP(tc); err != nil {
		tc.Close()
		return err
	}
	s.mu.Lock()
	s.conn = tc
	s.mu.Unlock()
	if s.dl.timedOut() == errStopped {
		return errStopped
	}
	s.fr = rtp.NewFrameReader(tc)
	s.got = false
	remote := tc.RemoteAddr().String()
	s.c.cnt.remote.Store(&remote)
	s.c.log.Info("media connection established", "remote", remote)
	return nil
}

// drop closes the current connection.
func (s *tcpSource) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	s.fr = nil
	s.dl.forget()
}

func (s *tcpSource) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.conn != nil:
		s.dl.halt(s.conn.SetReadDeadline)
	case s.c.ln != nil:
		s.dl.halt(s.c.ln.SetDeadline)
	default:
		s.dl.halt(nil)
	}
}

func (s *tcpSource) close() { s.drop() }
