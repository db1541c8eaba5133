package onvif

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one HTTP exchange with a device. Cameras answer in
// well under a second; an NVR building GetProfiles for 64 channels can take
// a few.
const DefaultTimeout = 10 * time.Second

// Option configures a Client.
type Option func(*options)

type options struct {
	username, password string
	timeout            time.Duration
	base               http.RoundTripper
	logger             *slog.Logger
}

// WithCredentials sets the device account used for WS-UsernameToken and,
// when the device asks for it, HTTP digest authentication.
func WithCredentials(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithTimeout bounds each HTTP exchange (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithTransport sets the transport that carries the requests, e.g. one with
// a TLS configuration for a camera with a self-signed certificate. The
// default is a transport without proxy (cameras are on the local network)
// that the client closes in Close.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.base = rt }
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// Client talks to one ONVIF device. It is safe for concurrent use.
type Client struct {
	xaddr              *url.URL
	username, password string
	hc                 *http.Client
	base               http.RoundTripper
	own                *http.Transport // closed by Close; nil with WithTransport
	log                *slog.Logger

	offset atomic.Int64 // device clock minus ours, in nanoseconds

	mu        sync.Mutex
	endpoints *Endpoints // resolved once by Endpoints
}

// NewClient returns a client for the device at address, which may be a
// host, host:port or the device service URL (see ParseAddress). It does no
// I/O; call SyncClock before authenticated calls when the device clock may
// be off (Probe does).
func NewClient(address string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	u, ui, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if o.username == "" && ui != nil {
		o.username = ui.Username()
		o.password, _ = ui.Password()
	}
	c := &Client{xaddr: u, username: o.username, password: o.password, log: o.logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("component", "onvif", "device", u.Host)
	base := o.base
	if base == nil {
		c.own = &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: o.timeout,
		}
		base = c.own
	}
	c.base = base
	// The digest layer sits outside the token layer so that a retry after a
	// challenge gets a fresh nonce and time.
	rt := &httpAuth{
		base:     &UsernameToken{Base: base, Username: o.username, Password: o.password, Now: c.deviceNow},
		username: o.username,
		password: o.password,
	}
	c.hc = &http.Client{
		Transport: rt,
		Timeout:   o.timeout,
		// A SOAP POST must not turn into a GET on a redirect; a snapshot
		// URI may redirect, which http.Client handles for GETs.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 || req.Method != http.MethodGet {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return c, nil
}

// XAddr returns the device service URL.
func (c *Client) XAddr() string { return c.xaddr.String() }

// ClockOffset returns the device clock minus the host clock, as measured by
// the last SyncClock.
func (c *Client) ClockOffset() time.Duration { return time.Duration(c.offset.Load()) }

// SetClockOffset sets the offset used for Created in UsernameTokens, e.g.
// one remembered from an earlier session.
func (c *Client) SetClockOffset(d time.Duration) { c.offset.Store(int64(d)) }

func (c *Client) deviceNow() time.Time { return time.Now().Add(c.ClockOffset()) }

// Close releases idle connections of the client's own transport.
func (c *Client) Close() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

// call sends one SOAP request to endpoint and decodes the element want of
// the reply into resp (nil: any or no element). auth=false sends it without
// a UsernameToken.
func (c *Client) call(ctx context.Context, endpoint, ns, op string, req any, want string, resp any, auth bool) error {
	err := c.roundTrip(ctx, endpoint, ns, op, req, want, resp, auth)
	if auth && c.username != "" && errors.Is(err, ErrUnauthorized) && ctx.Err() == nil {
		// The device clock may have jumped since SyncClock (an NTP sync
		// after boot): measure again, and try once more if it moved.
		before := c.ClockOffset()
		if after, serr := c.SyncClock(ctx); serr == nil && absDuration(after-before) > 2*time.Second {
			c.log.Info("device clock moved, retrying", "op", op, "offset", after)
			err = c.roundTrip(ctx, endpoint, ns, op, req, want, resp, auth)
		}
	}
	return err
}

func (c *Client) roundTrip(ctx context.Context, endpoint, ns, op string, req any, want string, resp any, auth bool) error {
	body, err := buildEnvelope(req)
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	if !auth {
		ctx = withoutUsernameToken(ctx)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	// SOAP 1.2 HTTP binding (§7.1.4): the action goes into the media type.
	hreq.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+ns+"/"+op+`"`)
	start := time.Now()
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		c.log.Debug("onvif call failed", "op", op, "endpoint", endpoint, "error", err)
		return fmt.Errorf("onvif %s: %w", op, wrapTransportError(err))
	}
	defer hresp.Body.Close()
	data, err := readLimited(hresp.Body, maxResponseBytes)
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	err = checkResponse(hresp.StatusCode, data, want, resp)
	c.log.Debug("onvif call", "op", op, "endpoint", endpoint, "status", hresp.StatusCode, "took", time.Since(start), "error", err)
	if err != nil {
		return fmt.Errorf("onvif %s: %w", op, err)
	}
	return nil
}

// readLimited reads a whole body of at most limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, wrapTransportError(err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: reply larger than %d bytes", ErrBadResponse, limit)
	}
	return data, nil
}

// checkResponse classifies a reply by its HTTP status and body, and decodes
// a good one into v.
func checkResponse(status int, data []byte, want string, v any) error {
	err := parseSOAP(data, want, v)
	if fe, ok := errors.AsType[*FaultError](err); ok {
		fe.HTTPStatus = status
		return fe
	}
	switch {
	case status >= 200 && status < 300:
		return err
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%w: HTTP %d", ErrUnauthorized, status)
	case err == nil || !errors.Is(err, ErrNotONVIF):
		return fmt.Errorf("%w: HTTP %d without a SOAP fault", ErrBadResponse, status)
	default:
		return fmt.Errorf("%w: HTTP %d: %s", ErrNotONVIF, status, snippet(data))
	}
}

// snippet returns the start of a body for an error message.
func snippet(data []byte) string {
	const n = 80
	s := bytes.TrimSpace(data)
	if len(s) > n {
		s = s[:n]
	}
	return fmt.Sprintf("%q", s)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
