package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghettovoice/gosip"
	gosiplog "github.com/ghettovoice/gosip/log"
	"github.com/ghettovoice/gosip/sip"
	gosiptransport "github.com/ghettovoice/gosip/transport"

	"github.com/nvr/nvr/sip/digest"
	"github.com/nvr/nvr/sip/transport"
)

// Defaults of the platform's identity (GB/T 28181 Appendix D examples, and
// what every device ships configured for).
const (
	DefaultID     = "34020000002000000001"
	DefaultDomain = "3402000000"
)

// Registration lifetime limits.
const (
	// DefaultExpires is granted when a REGISTER names none.
	DefaultExpires = 3600 * time.Second
	// DefaultMaxExpires caps what a device may ask for: a device that
	// vanished must not hold its address for days.
	DefaultMaxExpires = 24 * time.Hour
	// defaultNonceTTL is how long a challenge's nonce is accepted. Devices
	// answer a 401 within a second; some re-use the nonce for their next
	// refresh and get a stale=true challenge, which they handle.
	defaultNonceTTL = 5 * time.Minute
	// defaultExpiryCheck is how often expired registrations are swept.
	defaultExpiryCheck = time.Second
)

// ErrClosed is returned by SendMessage after Close.
var ErrClosed = errors.New("sip server closed")

// Server is the platform's SIP server: registrar, MESSAGE/NOTIFY intake and
// requests to devices. Set the fields, call Initialize, then Close.
type Server struct {
	// ListenAddr is where UDP and TCP listen, "host:port". Port 0 picks a
	// port free for both; Addr tells which. Default ":5060".
	ListenAddr string
	// Host is the address put in Via and Contact of requests to devices.
	// Default: the listen host, or the first non-loopback IPv4 address when
	// listening on all interfaces.
	Host string
	// ID is the platform's 20-digit SIP ID. Default DefaultID.
	ID string
	// Domain is the 10-digit SIP domain, also the digest realm. Default
	// DefaultDomain.
	Domain string
	// Password is the global device password. Empty (with no per-device
	// password) means devices register without authentication.
	Password string
	// Credentials, when set, supplies per-device passwords and says which
	// devices the platform knows.
	Credentials Credentials
	// AllowList lists device IDs always considered known.
	AllowList []string
	// DenyUnknown refuses (403) devices neither in AllowList nor known to
	// Credentials; by default any device may register (auto-accept).
	DenyUnknown bool
	// NoAuth accepts every REGISTER without a digest challenge.
	NoAuth bool
	// OfferQop adds qop="auth" to challenges. Answers without qop are
	// accepted either way (RFC 2617 §3.2.2 backward compatibility), which
	// many cameras need.
	OfferQop bool
	// NonceSecret signs nonces; nodes sharing it accept each other's
	// nonces. Default: random per process.
	NonceSecret []byte
	// NonceTTL bounds a nonce's life. Default 5 minutes.
	NonceTTL time.Duration
	// MaxExpires caps the registration lifetime granted. Default 24 h.
	MaxExpires time.Duration
	// ExpiryCheckInterval is how often expired registrations are swept.
	// Default 1 s.
	ExpiryCheckInterval time.Duration
	// MaxBodySize is the largest body accepted; larger requests get 413.
	// Default 1 MiB.
	MaxBodySize int
	// UserAgent goes in the Server and User-Agent headers.
	UserAgent string
	// Registry receives registration events. May be nil.
	Registry Registry
	// Handler receives MESSAGE and NOTIFY bodies. May be nil.
	Handler MessageHandler
	// InviteTimeout bounds an INVITE without a final response; it is then
	// cancelled. Default DefaultInviteTimeout.
	InviteTimeout time.Duration
	// Logger receives the server's log, tagged component=sip.
	Logger *slog.Logger

	log    *slog.Logger
	tp     *transport.Layer
	tpErrs chan error // gosip's view of the transport's errors; closed by Close
	gs     gosip.Server
	active handlers
	nonces *digest.Nonces
	allow  map[string]struct{}
	regs   registrations
	host   string
	port   sip.Port
	cseq   atomic.Uint32
	// dialogs are the media sessions (INVITE dialogs).
	dialogs dialogTable

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Initialize checks the configuration, binds UDP and TCP and starts serving.
func (s *Server) Initialize() error {
	if s.ListenAddr == "" {
		s.ListenAddr = ":5060"
	}
	if s.ID == "" {
		s.ID = DefaultID
	}
	if s.Domain == "" {
		s.Domain = DefaultDomain
	}
	if err := CheckDeviceID(s.ID); err != nil {
		return fmt.Errorf("sip platform ID %q: %w", s.ID, err)
	}
	if s.NonceTTL <= 0 {
		s.NonceTTL = defaultNonceTTL
	}
	if s.MaxExpires <= 0 {
		s.MaxExpires = DefaultMaxExpires
	}
	if s.ExpiryCheckInterval <= 0 {
		s.ExpiryCheckInterval = defaultExpiryCheck
	}
	if s.MaxBodySize <= 0 {
		s.MaxBodySize = transport.DefaultMaxBodySize
	}
	if s.UserAgent == "" {
		s.UserAgent = "nvr"
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.log = s.Logger.With("component", "sip")
	s.nonces = digest.NewNonces(s.NonceSecret, s.NonceTTL)
	s.allow = make(map[string]struct{}, len(s.AllowList))
	for _, id := range s.AllowList {
		s.allow[id] = struct{}{}
	}
	s.cseq.Store(uint32(time.Now().Unix() % 100000))

	s.ctx, s.cancel = context.WithCancel(context.Background())

	// Bind first, so that the address is known before any request can
	// arrive; serve once gosip and the handlers are in place.
	s.tp = &transport.Layer{Logger: s.log, MaxBodySize: s.MaxBodySize}
	s.tp.Initialize()
	addr, err := s.tp.Bind(s.ListenAddr)
	if err != nil {
		s.cancel()
		return err
	}
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	s.port = sip.Port(port)
	s.host = s.Host
	if s.host == "" {
		s.host = advertisedHost(host)
	}

	s.tpErrs = make(chan error)
	tp := gosipLayer{Layer: s.tp, errs: s.tpErrs}
	s.gs = gosip.NewServer(
		// gosip resolves Host and hands the IP to the transport factory,
		// which ignores it: our transport never rewrites Via. A name that
		// does not resolve would make gosip panic, so give it an IP.
		gosip.ServerConfig{Host: "127.0.0.1", UserAgent: s.UserAgent},
		func(net.IP, *net.Resolver, sip.MessageMapper, gosiplog.Logger) gosiptransport.Layer { return tp },
		nil,
		transport.Logger(s.log.With("lib", "gosip")),
	)
	handlers := map[sip.RequestMethod]gosip.RequestHandler{
		sip.REGISTER: s.onRegister,
		sip.MESSAGE:  s.onMessage,
		sip.NOTIFY:   s.onMessage,
		sip.OPTIONS:  s.onOptions,
		sip.BYE:      s.onBye,
		sip.INFO:     s.onInfo,
	}
	for m, h := range handlers {
		h = s.active.track(h)
		_ = s.gs.OnRequest(m, h) // never fails
		if answeredAtOnce(m) {
			// The transport runs these transactions itself, not gosip.
			s.tp.Handle(m, transport.RequestHandler(h))
		}
	}
	// Before serving: a device's first message after the restart must
	// find its registration.
	s.restoreStored()
	s.wg.Add(1)
	go s.sweep()
	s.tp.Serve()
	s.log.Info("sip server listening", "addr", addr, "udp", true, "tcp", true,
		"id", s.ID, "domain", s.Domain, "host", s.host, "auth", !s.NoAuth, "auto_accept", !s.DenyUnknown)
	return nil
}

// advertisedHost picks the address to put in Via for a listen host.
func advertisedHost(listenHost string) string {
	if ip := net.ParseIP(listenHost); ip != nil && !ip.IsUnspecified() {
		return listenHost
	}
	if listenHost != "" && net.ParseIP(listenHost) == nil {
		return listenHost // a name
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// AdvertisedHost returns the address written in Via and Contact: Host, or
// the one derived from the listener. "" before Initialize.
func (s *Server) AdvertisedHost() string { return s.host }

// Addr returns the bound address ("host:port"), the same for UDP and TCP;
// "" before Initialize.
func (s *Server) Addr() string {
	if s.tp == nil {
		return ""
	}
	return s.tp.Addr()
}

// Close stops the server. Registrations are forgotten without Unregistered
// events: the devices did not leave, the platform did.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.gs == nil {
			return // Initialize failed or was not called
		}
		s.closeDialogs() // BYE while the transport still runs
		s.cancel()
		// Requests that arrive during Close must not reach gosip's
		// shutdown, whose races go test -race reports:
		//  1. The handlers running finish while the transport can still
		//     answer; requests arriving from now on are left unanswered
		//     (a gosip server transaction answered after its layer was
		//     cancelled sends on a channel being closed).
		//  2. gosip's Shutdown waits for its handlers with a WaitGroup
		//     whose Add is in its serve loop: called from here it races
		//     that loop. Ending the transport's error channel makes the
		//     serve loop return and run Shutdown itself, which cancels
		//     the transport on its way.
		s.active.closeAndWait()
		close(s.tpErrs)
		<-s.tp.Done()
		s.wg.Wait()
		s.log.Info("sip server stopped")
	})
	return nil
}

// Registration returns a device's current registration.
func (s *Server) Registration(deviceID string) (RegisterInfo, bool) {
	reg, ok := s.regs.get(deviceID)
	return reg.RegisterInfo, ok
}

// Registrations returns every current registration, ordered by device ID.
func (s *Server) Registrations() []RegisterInfo { return s.regs.all() }

// TransportStats returns the transport's counters (messages received,
// rejected, dropped).
func (s *Server) TransportStats() transport.Stats { return s.tp.Stats() }

// sweep expires registrations that were not refreshed in time.
func (s *Server) sweep() {
	defer s.wg.Done()
	t := time.NewTicker(s.ExpiryCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			for _, info := range s.regs.expire(now) {
				s.log.Info("device registration expired", "device_id", info.DeviceID,
					"remote", info.RemoteAddr, "expired_at", info.ExpiresAt)
				if s.Registry != nil {
					s.Registry.Unregistered(s.ctx, info.DeviceID, UnregisterExpired)
				}
			}
		}
	}
}

// respond answers req through its transaction. A final response gets a To
// tag (RFC 3261 §8.2.6.2).
func (s *Server) respond(tx sip.ServerTransaction, req sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest("", req, sip.StatusCode(code), reason, "")
	if code >= 200 {
		if to, ok := res.To(); ok {
			if to.Params == nil {
				to.Params = sip.NewParams()
			}
			if !to.Params.Has("tag") {
				to.Params.Add("tag", sip.String{Str: token(4)})
			}
		}
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	var err error
	if tx != nil {
		err = tx.Respond(res)
	} else {
		_, err = s.gs.Respond(res)
	}
	if err != nil {
		s.log.Warn("sip respond failed", "status", code, "method", string(req.Method()),
			"remote", req.Source(), "err", err)
	}
}

// onOptions answers OPTIONS, which some older devices use as a liveness
// check of the platform.
func (s *Server) onOptions(req sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, 200, "OK")
}

// gosipLayer is the transport as gosip sees it: Close ends its Errors
// channel to make gosip shut down from its own serve loop.
type gosipLayer struct {
	*transport.Layer
	errs chan error
}

// Errors implements gosip's transport.Layer.
func (l gosipLayer) Errors() <-chan error { return l.errs }

// handlers counts the request handlers running, so that Close returns only
// once none is and none starts after it (a mutex, not a WaitGroup: a
// handler may start while Close waits).
type handlers struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   *sync.Cond
}

func (h *handlers) track(fn gosip.RequestHandler) gosip.RequestHandler {
	return func(req sip.Request, tx sip.ServerTransaction) {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return
		}
		h.n++
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			h.n--
			if h.n == 0 && h.idle != nil {
				h.idle.Broadcast()
			}
			h.mu.Unlock()
		}()
		fn(req, tx)
	}
}

func (h *handlers) closeAndWait() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.idle == nil {
		h.idle = sync.NewCond(&h.mu)
	}
	for h.n > 0 {
		h.idle.Wait()
	}
}
