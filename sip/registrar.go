package sip

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ghettovoice/gosip/sip"

	"github.com/nvr/nvr/sip/digest"
)

// onRegister is the registrar (RFC 3261 §10.3, GB/T 28181 §9.1.2):
// identify the device, admit it, authenticate it with digest, then record
// or remove its binding.
func (s *Server) onRegister(req sip.Request, tx sip.ServerTransaction) {
	id := toUser(req) // the address-of-record; GB devices put their ID in From and To
	if id == "" {
		id = fromUser(req)
	}
	log := s.log.With("device_id", id, "remote", req.Source(), "transport", req.Transport())
	if err := CheckDeviceID(id); err != nil {
		log.Warn("register refused: bad device ID", "err", err)
		s.respond(tx, req, 400, "Bad Request (device ID must be 20 digits)")
		return
	}
	if t := DeviceType(id); !RegisteringType(t) {
		log.Warn("device ID has unexpected type digits; accepting it anyway", "type", t)
	}

	password, known := s.password(id)
	if s.DenyUnknown && !known {
		log.Warn("register refused: unknown device and auto-accept is off")
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	authenticated := false
	if !s.NoAuth && password != "" {
		if !s.authenticate(req, tx, password, log) {
			return
		}
		authenticated = true
	}

	expires := s.requestedExpires(req)
	now := time.Now()
	if expires == 0 {
		_, was := s.regs.remove(id)
		s.respond(tx, req, 200, "OK", dateHeader(now), expiresHeader(0))
		log.Info("device unregistered", "was_registered", was)
		if s.Registry != nil {
			s.Registry.Unregistered(s.ctx, id, UnregisterRequested)
		}
		return
	}

	// The parser's strings are slices of the whole message: the registration table (and
	// whatever the Registry keeps by device ID) would hold every device's REGISTER.
	id = strings.Clone(id)
	info := RegisterInfo{
		DeviceID:      id,
		RemoteAddr:    req.Source(),
		Transport:     transportOf(req.Transport()),
		UserAgent:     strings.Clone(headerValue(req, "User-Agent")),
		Expires:       expires,
		RegisteredAt:  now,
		ExpiresAt:     now.Add(expires),
		Authenticated: authenticated,
	}
	hdrs := []sip.Header{dateHeader(now), expiresHeader(expires)}
	if c, ok := req.Contact(); ok && c.Address != nil {
		info.Contact = c.Address.String()
		contact := c.Clone().(*sip.ContactHeader)
		if contact.Params == nil {
			contact.Params = sip.NewParams()
		}
		contact.Params.Add("expires", sip.String{Str: strconv.Itoa(int(expires / time.Second))})
		hdrs = append(hdrs, contact)
	}
	refresh, wasRestored := s.regs.put(info, now)
	info.Refresh = refresh
	s.respond(tx, req, 200, "OK", hdrs...)
	switch {
	case wasRestored:
		log.Info("device registered again; its registration from before the restart is replaced",
			"expires", expires, "user_agent", info.UserAgent, "authenticated", authenticated)
	case info.Refresh:
		log.Debug("device registration refreshed", "expires", expires)
	default:
		log.Info("device registered", "expires", expires, "user_agent", info.UserAgent, "authenticated", authenticated)
	}
	if s.Registry != nil {
		s.Registry.Registered(s.ctx, info)
	}
}

// answeredAtOnce reports whether the server answers requests of method as
// soon as it has handled them, with no dialog and no provisional response:
// the transport then runs their server transactions (transport.Layer.Handle)
// in a table entry each instead of gosip's 22 KiB and goroutine for 32 s.
// These are what thousands of devices send: REGISTER, keepalive and query
// answer MESSAGEs, catalog NOTIFYs. INVITE, BYE, INFO and ACK stay with
// gosip.
func answeredAtOnce(method sip.RequestMethod) bool {
	switch method {
	case sip.REGISTER, sip.MESSAGE, sip.NOTIFY, sip.OPTIONS:
		return true
	}
	return false
}

// password returns the password that applies to a device and whether the
// platform knows the device.
func (s *Server) password(id string) (password string, known bool) {
	password = s.Password
	_, known = s.allow[id]
	if s.Credentials != nil {
		if pw, ok := s.Credentials.Password(s.ctx, id); ok {
			known = true
			if pw != "" {
				password = pw
			}
		}
	}
	return password, known
}

// authenticate checks the request's digest answer, or challenges it. It
// answers the request itself unless it returns true.
func (s *Server) authenticate(req sip.Request, tx sip.ServerTransaction, password string, log *slog.Logger) bool {
	h := headerValue(req, "Authorization")
	if h == "" {
		s.challenge(req, tx, false)
		return false
	}
	a, err := digest.ParseAuthorization(h)
	if err != nil {
		log.Warn("register refused: bad Authorization header", "err", err)
		s.respond(tx, req, 400, "Bad Request (Authorization)")
		return false
	}
	if err := s.nonces.Check(a.Nonce); err != nil {
		// Not our nonce (restart, another node) or an old one: a new
		// challenge; stale=true tells the device its password was fine.
		log.Debug("register: nonce refused, new challenge", "err", err)
		s.challenge(req, tx, errors.Is(err, digest.ErrNonceStale))
		return false
	}
	if !a.Verify(string(req.Method()), password) {
		log.Warn("register refused: wrong password", "username", a.Username)
		s.respond(tx, req, 403, "Forbidden")
		return false
	}
	return true
}

// challenge answers 401 with a fresh nonce.
func (s *Server) challenge(req sip.Request, tx sip.ServerTransaction, stale bool) {
	ch := digest.Challenge{Realm: s.Domain, Nonce: s.nonces.New(), Algorithm: digest.MD5, Stale: stale}
	if s.OfferQop {
		ch.Qop = []string{digest.QopAuth}
	}
	s.respond(tx, req, 401, "Unauthorized", &sip.GenericHeader{HeaderName: "WWW-Authenticate", Contents: ch.String()})
}

// requestedExpires returns the lifetime a REGISTER asks for: the Expires
// header, else the Contact's expires parameter, else DefaultExpires; capped
// at MaxExpires.
func (s *Server) requestedExpires(req sip.Request) time.Duration {
	secs := -1
	if hs := req.GetHeaders("Expires"); len(hs) > 0 {
		if e, ok := hs[0].(*sip.Expires); ok {
			secs = int(*e)
		} else if v, err := strconv.Atoi(hs[0].Value()); err == nil {
			secs = v
		}
	}
	if c, ok := req.Contact(); secs < 0 && ok && c.Params != nil {
		if v, ok := c.Params.Get("expires"); ok && v != nil {
			if n, err := strconv.Atoi(v.String()); err == nil {
				secs = n
			}
		}
	}
	if secs < 0 {
		return min(DefaultExpires, s.MaxExpires)
	}
	return min(time.Duration(secs)*time.Second, s.MaxExpires)
}

func dateHeader(now time.Time) sip.Header {
	return &sip.GenericHeader{HeaderName: "Date", Contents: now.Format(DateLayout)}
}

func expiresHeader(d time.Duration) sip.Header {
	e := sip.Expires(d / time.Second)
	return &e
}
