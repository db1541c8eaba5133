package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ghettovoice/gosip/sip"
	"github.com/ghettovoice/gosip/sip/parser"
	gosiptransport "github.com/ghettovoice/gosip/transport"
)

// ErrClosed is returned by Send and Listen after Cancel.
var ErrClosed = errors.New("sip transport closed")

// maxDatagram is the largest UDP payload (65,535 − 8 − 20).
const maxDatagram = 65507

// udpReadBuffer is the socket receive buffer asked for. A burst of
// thousands of devices registering at once (a site powering up) must not be
// dropped by the kernel while the reader is busy.
const udpReadBuffer = 4 << 20

// Layer is the SIP transport: one UDP socket and one TCP listener on the same
// address. It implements gosip's transport.Layer. Set the fields, call
// Initialize, then ListenUDPAndTCP.
type Layer struct {
	// Logger receives transport problems. Tagged by the caller.
	Logger *slog.Logger
	// MaxBodySize is the largest message body accepted; larger requests
	// are answered 413. Default DefaultMaxBodySize.
	MaxBodySize int
	// MaxHeaderSize bounds a TCP message's header section. Default
	// DefaultMaxHeaderSize.
	MaxHeaderSize int
	// MaxHandlers bounds the requests decoded and handled at once; more
	// wait, undecoded, in the socket (docs/perf-gb28181.md). Default
	// DefaultMaxHandlers.
	MaxHandlers int
	// MaxBacklog bounds the requests waiting for a handler slot. Default
	// DefaultMaxBacklog.
	MaxBacklog int

	log      *slog.Logger
	dec      decoder
	problems *problemLog

	msgs       chan sip.Message
	errs       chan error
	canceled   chan struct{}
	done       chan struct{}
	cancelOnce sync.Once
	wg         sync.WaitGroup

	mu    sync.Mutex
	udp   *net.UDPConn
	tcp   *net.TCPListener
	conns map[string]*tcpConn // by remote address
	poll  *poller             // watches conns for input (Linux), started on first use
	// clients are the waiting client transactions, by branch and method.
	clients map[string]chan sip.Response
	addr    string
	// handlers are the methods whose server transactions the layer runs
	// itself (Handle), and stx those transactions.
	handlers map[sip.RequestMethod]RequestHandler
	stx      serverTxs
	// gate bounds the requests being decoded and handled at once.
	gate     *gate
	sweeping sync.Once
	// readers are the TCP read buffers not lent to a connection, and
	// readersLent counts those that are.
	readers     sync.Pool
	readersLent atomic.Int64

	stats struct {
		received, rejected, dropped, absorbed atomic.Uint64
	}
}

var _ gosiptransport.Layer = (*Layer)(nil)

// Stats are counters since Initialize.
type Stats struct {
	Received uint64 // messages passed to the transaction layer or a Handle handler
	Rejected uint64 // bad requests answered with 400 or 413
	Dropped  uint64 // input dropped without an answer
	Absorbed uint64 // retransmitted requests of Handle methods, not handled again
}

// Initialize prepares the layer.
func (l *Layer) Initialize() {
	if l.Logger == nil {
		l.Logger = slog.New(slog.DiscardHandler)
	}
	if l.MaxBodySize <= 0 {
		l.MaxBodySize = DefaultMaxBodySize
	}
	if l.MaxHeaderSize <= 0 {
		l.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if l.MaxHandlers <= 0 {
		l.MaxHandlers = DefaultMaxHandlers
	}
	if l.MaxBacklog <= 0 {
		l.MaxBacklog = DefaultMaxBacklog
	}
	l.gate = newGate(l.MaxHandlers, l.MaxBacklog)
	l.log = l.Logger
	l.problems = &problemLog{log: l.log, kinds: map[string]*problemKind{}}
	l.dec = decoder{parser: parser.NewPacketParser(quietLogger(l.log)), maxBodySize: l.MaxBodySize}
	l.msgs = make(chan sip.Message)
	l.errs = make(chan error)
	l.canceled = make(chan struct{})
	l.done = make(chan struct{})
	l.conns = map[string]*tcpConn{}
	l.clients = map[string]chan sip.Response{}
}

// ListenUDPAndTCP binds UDP and TCP on addr ("host:port") and starts
// serving: Bind then Serve. It returns the bound address.
func (l *Layer) ListenUDPAndTCP(addr string) (string, error) {
	bound, err := l.Bind(addr)
	if err != nil {
		return "", err
	}
	l.Serve()
	return bound, nil
}

// Bind binds UDP and TCP on addr ("host:port") without reading yet. With
// port 0 it picks a port free for both. It returns the bound address.
func (l *Layer) Bind(addr string) (string, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("sip listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", fmt.Errorf("sip listen address %q: bad port", addr)
	}
	const attempts = 20 // a port free for UDP may be taken for TCP
	for i := 0; ; i++ {
		udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host), Port: port})
		if err != nil {
			return "", fmt.Errorf("sip listen udp %s: %w", addr, err)
		}
		bound := udp.LocalAddr().(*net.UDPAddr)
		tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: bound.IP, Port: bound.Port})
		if err != nil {
			_ = udp.Close()
			if port == 0 && errors.Is(err, syscall.EADDRINUSE) && i < attempts {
				continue
			}
			return "", fmt.Errorf("sip listen tcp %s: %w", addr, err)
		}
		l.mu.Lock()
		l.udp, l.tcp = udp, tcp
		l.addr = net.JoinHostPort(host, strconv.Itoa(bound.Port))
		l.mu.Unlock()
		return l.addr, nil
	}
}

// Serve starts reading the sockets Bind bound.
func (l *Layer) Serve() {
	l.mu.Lock()
	udp, tcp := l.udp, l.tcp
	l.mu.Unlock()
	if udp != nil {
		l.serveUDP(udp)
	}
	if tcp != nil {
		l.serveTCP(tcp)
	}
	l.startSweeper()
}

// startSweeper starts dropping expired server transactions once there are
// Handle methods.
func (l *Layer) startSweeper() {
	l.mu.Lock()
	n := len(l.handlers)
	l.mu.Unlock()
	if n == 0 {
		return
	}
	l.sweeping.Do(func() {
		l.wg.Add(1)
		go l.sweeper()
	})
}

// Listen implements gosip's transport.Layer for one network ("udp" or
// "tcp"). Options are not supported.
func (l *Layer) Listen(network, addr string, _ ...gosiptransport.ListenOption) error {
	switch strings.ToLower(network) {
	case "udp":
		a, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return err
		}
		c, err := net.ListenUDP("udp", a)
		if err != nil {
			return err
		}
		l.serveUDP(c)
	case "tcp":
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			return err
		}
		ln, err := net.ListenTCP("tcp", a)
		if err != nil {
			return err
		}
		l.serveTCP(ln)
	default:
		return fmt.Errorf("sip transport %q not supported", network)
	}
	l.startSweeper()
	return nil
}

// Addr returns the bound address.
func (l *Layer) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// Stats returns the counters.
func (l *Layer) Stats() Stats {
	return Stats{
		Received: l.stats.received.Load(),
		Rejected: l.stats.rejected.Load(),
		Dropped:  l.stats.dropped.Load(),
		Absorbed: l.stats.absorbed.Load(),
	}
}

// Messages implements gosip's transport.Layer. The channel is never closed:
// gosip's transaction layer spins on a closed one.
func (l *Layer) Messages() <-chan sip.Message { return l.msgs }

// Errors implements gosip's transport.Layer. Nothing is sent on it: the
// layer logs its own problems.
func (l *Layer) Errors() <-chan error { return l.errs }

// Done is closed when Cancel has finished.
func (l *Layer) Done() <-chan struct{} { return l.done }

// IsReliable reports whether network retransmits by itself (TCP).
func (l *Layer) IsReliable(network string) bool { return strings.EqualFold(network, "TCP") }

// IsStreamed reports whether network is a byte stream (TCP).
func (l *Layer) IsStreamed(network string) bool { return strings.EqualFold(network, "TCP") }

func (l *Layer) String() string { return "sip transport " + l.Addr() }

// Cancel closes the sockets and every connection, then Done is closed once
// the readers have returned.
func (l *Layer) Cancel() {
	l.cancelOnce.Do(func() {
		close(l.canceled)
		l.mu.Lock()
		if l.udp != nil {
			_ = l.udp.Close()
		}
		if l.tcp != nil {
			_ = l.tcp.Close()
		}
		for _, c := range l.conns {
			_ = c.c.Close()
		}
		if l.poll != nil {
			l.poll.stop()
		}
		l.mu.Unlock()
		l.gate.close()
		go func() {
			l.wg.Wait()
			close(l.done)
		}()
	})
}

func (l *Layer) isCanceled() bool {
	select {
	case <-l.canceled:
		return true
	default:
		return false
	}
}

// Send implements gosip's transport.Layer. The message goes to its
// Destination over its Transport; it is not modified (gosip's own transport
// rewrites the Via of the message it is given, which races with its
// retransmission timers).
func (l *Layer) Send(msg sip.Message) error {
	if l.isCanceled() {
		return ErrClosed
	}
	data := []byte(msg.String())
	dest := msg.Destination()
	switch network := strings.ToUpper(msg.Transport()); network {
	case "UDP":
		ap, err := resolve(dest)
		if err != nil {
			return err
		}
		if len(data) > maxDatagram {
			return fmt.Errorf("sip message of %d bytes does not fit a datagram", len(data))
		}
		l.mu.Lock()
		udp := l.udp
		l.mu.Unlock()
		if udp == nil {
			return errors.New("sip transport: not listening on udp")
		}
		if _, err := udp.WriteToUDPAddrPort(data, ap); err != nil {
			return fmt.Errorf("sip send udp to %s: %w", ap, err)
		}
		return nil
	case "TCP":
		ap, err := resolve(dest)
		if err != nil {
			return err
		}
		c := l.conn(ap.String())
		if c == nil {
			if _, isReq := msg.(sip.Request); !isReq {
				return fmt.Errorf("sip send tcp to %s: connection gone", ap)
			}
			if c, err = l.dial(ap); err != nil {
				return err
			}
		}
		return c.write(data)
	default:
		return fmt.Errorf("sip transport %q not supported", network)
	}
}

// resolve turns a destination into an address. Destinations we set are
// numeric; a host name is resolved as a fallback.
func resolve(dest string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(dest); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	a, err := net.ResolveUDPAddr("udp", dest)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("sip destination %q: %w", dest, err)
	}
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// handle decodes one message and passes it up, or answers or drops it.
// reply writes raw bytes back to the sender.
//
// A request first takes one of the MaxHandlers slots (gate), or waits for
// one in the backlog, undecoded. Responses never wait. The slot goes with
// a request to its Handle handler and is passed on when the handler returns
// (next); a request for gosip passes it on before it is handed over, as
// that may block.
func (l *Layer) handle(data []byte, network string, remote netip.AddrPort, reply func([]byte) error) {
	if !isRequest(data) {
		_, up := l.process(data, network, remote, reply, false)
		l.passUp(up)
		return
	}
	run, dropped := l.gate.enter(waiting{data: data, network: network, remote: remote, reply: reply}, network != "UDP")
	switch {
	case run:
		taken, up := l.process(data, network, remote, reply, true)
		if !taken {
			l.next()
		}
		l.passUp(up)
	case dropped && !l.isCanceled():
		l.stats.dropped.Add(1)
		l.problems.report("dropped sip request: too many waiting", "transport", network, "remote", remote.String(),
			"waiting", l.MaxBacklog)
	}
}

// next passes a handler slot on: to the waiting requests in turn until one
// goes to a handler, which passes it on in its turn, or back to the gate.
// The messages for gosip met on the way are handed over afterwards.
func (l *Layer) next() {
	var ups []sip.Message
	for {
		w, ok := l.gate.leave()
		if !ok {
			break
		}
		taken, up := l.process(w.data, w.network, w.remote, w.reply, true)
		if up != nil {
			ups = append(ups, up)
		}
		if taken {
			break
		}
	}
	for _, m := range ups {
		l.passUp(m)
	}
}

// process decodes a message and deals with it: a response goes to the
// client transaction waiting for it, a request of a Handle method to its
// handler, which takes over the caller's handler slot if it has one
// (taken); anything else is returned for gosip (up).
func (l *Layer) process(data []byte, network string, remote netip.AddrPort, reply func([]byte) error, slot bool) (taken bool, up sip.Message) {
	msg, err := l.dec.decode(data, network, remote, l.Addr())
	if err != nil {
		l.refuse(err, network, remote, reply)
		return false, nil
	}
	l.stats.received.Add(1)
	switch m := msg.(type) {
	case sip.Response:
		if l.deliverResponse(m) {
			return false, nil
		}
	case sip.Request:
		if h := l.handler(m.Method()); h != nil {
			return l.serve(m, h, network, remote, reply, slot), nil
		}
	}
	return false, msg
}

// passUp hands a message to gosip's transaction layer.
func (l *Layer) passUp(msg sip.Message) {
	if msg == nil {
		return
	}
	select {
	case l.msgs <- msg:
	case <-l.canceled:
	}
}

// refuse answers a rejected request when it could be identified, and logs.
func (l *Layer) refuse(err error, network string, remote netip.AddrPort, reply func([]byte) error) {
	if errors.Is(err, errKeepalive) {
		return
	}
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Request == nil {
		l.stats.dropped.Add(1)
		l.problems.report("dropped malformed sip input", "transport", network, "remote", remote.String(), "err", err)
		return
	}
	l.stats.rejected.Add(1)
	res := sip.NewResponseFromRequest("", rej.Request, sip.StatusCode(rej.Code), rej.Reason, "")
	if werr := reply([]byte(res.String())); werr != nil {
		l.log.Debug("sip reject reply failed", "remote", remote.String(), "err", werr)
	}
	l.problems.report("rejected sip request", "transport", network, "remote", remote.String(),
		"method", string(rej.Request.Method()), "status", rej.Code, "err", rej.Err)
}
