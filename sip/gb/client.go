package gb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// Defaults of the Client's timeouts.
const (
	// DefaultQueryTimeout bounds a query: devices answer in well under a
	// second on a LAN, a few seconds over a loaded 4G link.
	DefaultQueryTimeout = 10 * time.Second
	// DefaultCatalogTimeout bounds a multi-part answer: an NVR sending
	// thousands of channels a few per MESSAGE, each waiting for its 200,
	// takes seconds.
	DefaultCatalogTimeout = 30 * time.Second
)

// Errors returned by the Client's requests.
var (
	// ErrTimeout is returned when the device does not answer in time: no
	// 200 to the MESSAGE, or no answer MESSAGE within QueryTimeout. It is
	// sip.ErrTimeout, so that either may be tested with errors.Is.
	ErrTimeout = sip.ErrTimeout
	// ErrNotRegistered is returned for a device with no current
	// registration. It is sip.ErrNotRegistered.
	ErrNotRegistered = sip.ErrNotRegistered
	// ErrDeviceError is returned when the device answers with Result ERROR.
	ErrDeviceError = errors.New("gb: device answered ERROR")
	// ErrClosed is returned after Close.
	ErrClosed = sip.ErrClosed
)

// Client is the GB/T 28181 protocol client over a sip.Server. Set the
// fields, call Initialize, make it the Server's Handler, and Close it
// before the Server.
type Client struct {
	// Server sends the requests. Required.
	Server *sip.Server
	// Events receives what devices report on their own. May be nil.
	Events Events
	// QueryTimeout bounds a query; a device that does not answer in time
	// yields ErrTimeout (the API maps it to 504). Default 10 s.
	QueryTimeout time.Duration
	// CatalogTimeout bounds Catalog and RecordInfo, which keep the parts
	// that arrived when it ends (complete=false). Default 30 s.
	CatalogTimeout time.Duration
	// Location is the time zone of devices' clocks, in which MANSCDP times
	// are read and written. Default time.Local.
	Location *time.Location
	// Logger, tagged component=gb.
	Logger *slog.Logger

	log      *slog.Logger
	problems *problemLog
	dec      manscdp.Decoder
	asm      manscdp.Assembler
	sn       atomic.Int64
	// send sends a MESSAGE body; Server.SendMessage unless a test swaps it.
	send func(ctx context.Context, deviceID string, body []byte) error
	// subscribe sends a SUBSCRIBE; Server.Subscribe unless a test swaps it.
	subscribe func(ctx context.Context, sub *sip.Subscription, expires time.Duration, body []byte) (time.Duration, error)

	mu       sync.Mutex
	charsets map[string]manscdp.Charset
	waiting  map[manscdp.Key]*waiter
	subs     map[string]*subscription
	// queue holds the subscriptions by refresh time; one goroutine,
	// started with the first subscription, refreshes them (refresher.go).
	queue      refreshQueue
	scheduling bool
	wake       chan struct{} // a subscription was queued
	refreshing chan struct{} // a slot per refresh in flight

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Initialize prepares the Client.
func (c *Client) Initialize() {
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.CatalogTimeout <= 0 {
		c.CatalogTimeout = DefaultCatalogTimeout
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.log = c.Logger.With("component", "gb")
	c.problems = &problemLog{log: c.log, kinds: map[string]*problemKind{}}
	c.dec = manscdp.Decoder{Location: c.Location}
	if c.send == nil && c.Server != nil {
		c.send = c.Server.SendMessage
	}
	if c.subscribe == nil && c.Server != nil {
		c.subscribe = c.Server.Subscribe
	}
	c.charsets = map[string]manscdp.Charset{}
	c.waiting = map[manscdp.Key]*waiter{}
	c.subs = map[string]*subscription{}
	c.wake = make(chan struct{}, 1)
	c.refreshing = make(chan struct{}, maxRefreshing)
	// SNs start from the clock so that a restarted platform does not
	// reuse the SNs of answers still in flight.
	c.sn.Store(time.Now().Unix() % 1000000)
	c.ctx, c.cancel = context.WithCancel(context.Background())
}

// Close stops the subscription refreshes and the alarm answers in flight.
// Subscriptions are not ended on the devices: they expire.
func (c *Client) Close() {
	// Under c.mu: a goroutine is started only under c.mu and only while
	// c.ctx lives, so none starts once Wait begins.
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
}

// nextSN returns the SN of a new request.
func (c *Client) nextSN() int64 { return c.sn.Add(1) }

// SetCharset sets the charset a device's bodies are read in first and
// queries to it are written in (e.g. from the device's stored settings).
// Decoding still follows what a body turns out to be in.
func (c *Client) SetCharset(deviceID string, cs manscdp.Charset) {
	c.mu.Lock()
	c.charsets[deviceID] = cs
	c.mu.Unlock()
}

// Charset returns the charset remembered for a device, GB2312 (the
// standard's default) for one not heard from.
func (c *Client) Charset(deviceID string) manscdp.Charset {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.charsets[deviceID]
}

// rememberCharset records the charset a body from a device was read in.
func (c *Client) rememberCharset(deviceID string, cs manscdp.Charset) {
	c.mu.Lock()
	old, known := c.charsets[deviceID]
	c.charsets[deviceID] = cs
	c.mu.Unlock()
	if known && old != cs || !known && cs != manscdp.GB2312 {
		c.log.Info("device charset detected", "device_id", deviceID, "charset", cs, "was", old)
	}
}

// sendBody encodes m in the device's charset and sends it in a MESSAGE.
func (c *Client) sendBody(ctx context.Context, deviceID string, m *manscdp.Message) error {
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	body, err := manscdp.Encode(m, c.Charset(deviceID))
	if err != nil {
		return err
	}
	if err := c.send(ctx, deviceID, body); err != nil {
		return fmt.Errorf("gb: %s %s: %w", m.CmdType, m.Kind, err)
	}
	return nil
}
