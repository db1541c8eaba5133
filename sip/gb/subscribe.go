package gb

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// Subscription timing.
const (
	// DefaultSubscribeExpires is asked for when SubscribeCatalog gets 0.
	DefaultSubscribeExpires = time.Hour
	// minRefresh keeps a device that grants tiny lifetimes from being
	// refreshed in a tight loop.
	minRefresh = 100 * time.Millisecond
	// maxRetry bounds the wait before retrying a failed refresh.
	maxRetry = 30 * time.Second
)

// subscription is a catalog subscription the Client keeps alive. The
// Client's scheduler refreshes it (refresher.go).
type subscription struct {
	deviceID string
	expires  time.Duration
	// dlgMu is held by whoever sends a SUBSCRIBE in dlg: a refresh, the
	// unsubscribe, or a SubscribeCatalog taking the dialog over.
	dlgMu sync.Mutex
	dlg   sip.Subscription

	// Under c.mu:
	sn      int64     // SN of the last SUBSCRIBE's query
	at      time.Time // when the next refresh is due
	index   int       // position in c.queue, -1 when not queued
	stopped bool      // unsubscribed, replaced, or ended: no more refreshes
}

// refreshAfter is when to refresh a subscription granted for d: at 4/5 of
// it, so that a refresh that needs retransmissions still lands in time.
func refreshAfter(d time.Duration) time.Duration { return max(d*4/5, minRefresh) }

// retryAfter is when to retry a failed refresh of a subscription of
// lifetime d.
func retryAfter(d time.Duration) time.Duration { return min(max(d/10, minRefresh), maxRetry) }

// catalogQuery is the body of a catalog SUBSCRIBE (§9.11.1, A.2.4.2).
func (c *Client) catalogQuery(deviceID string, sn int64) ([]byte, error) {
	return manscdp.Encode(manscdp.NewQuery(manscdp.CmdCatalog, sn, deviceID), c.Charset(deviceID))
}

// SubscribeCatalog subscribes to a device's catalog changes (GB/T
// 28181-2016 §9.11.1): a SUBSCRIBE with Event: Catalog and a Catalog query
// body. The subscription is refreshed at 4/5 of the lifetime the device
// grants, ±10 %, until Unsubscribe, Close, or the device is no longer
// registered. One goroutine of the Client schedules the refreshes of all
// the devices; a refresh has a goroutine only while its SUBSCRIBE is in
// flight.
// The device's NOTIFYs are answered 200 by the Server and reach
// Events.CatalogEvent. Subscribing again replaces the subscription (a
// refresh in the same dialog). expires 0 means DefaultSubscribeExpires.
func (c *Client) SubscribeCatalog(ctx context.Context, deviceID string, expires time.Duration) error {
	if expires <= 0 {
		expires = DefaultSubscribeExpires
	}
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	dlg := sip.Subscription{DeviceID: deviceID}
	if old := c.takeSubscription(deviceID); old != nil {
		// Wait for a refresh in flight, then go on in its dialog.
		old.dlgMu.Lock()
		dlg = old.dlg
		old.dlgMu.Unlock()
	}
	sn := c.nextSN()
	if !dlg.Active() {
		dlg.Event = "Catalog;id=" + strconv.FormatInt(sn, 10)
	}
	s := &subscription{deviceID: deviceID, expires: expires, sn: sn, dlg: dlg, index: -1}
	body, err := c.catalogQuery(deviceID, sn)
	if err != nil {
		return err
	}
	qctx, cancel := context.WithTimeout(ctx, c.QueryTimeout)
	defer cancel()
	granted, err := c.subscribe(qctx, &s.dlg, expires, body)
	if err != nil {
		return fmt.Errorf("gb: catalog SUBSCRIBE: %w", c.closedOr(err))
	}
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	if other := c.subs[deviceID]; other != nil {
		c.stopLocked(other) // a concurrent SubscribeCatalog: the last one wins
	}
	c.subs[deviceID] = s
	c.scheduleLocked(s, refreshAfter(granted))
	c.mu.Unlock()
	c.log.Info("catalog subscribed", "device_id", deviceID, "expires", granted)
	return nil
}

// Unsubscribe ends a device's catalog subscription: the refreshes stop and
// a SUBSCRIBE with Expires: 0 is sent in the background. Call it when the
// device unregisters too (the refresh would stop by itself at its next
// attempt).
func (c *Client) Unsubscribe(deviceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[deviceID]
	if s == nil {
		return
	}
	delete(c.subs, deviceID)
	c.stopLocked(s)
	if c.ctx.Err() != nil {
		return
	}
	c.wg.Add(1)
	go c.endSubscription(s)
}

// takeSubscription removes a device's subscription and stops its
// refreshes, and returns it.
func (c *Client) takeSubscription(deviceID string) *subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[deviceID]
	if s != nil {
		delete(c.subs, deviceID)
		c.stopLocked(s)
	}
	return s
}

// subscribedSN reports whether sn is the SN of a device's catalog
// SUBSCRIBE.
func (c *Client) subscribedSN(deviceID string, sn int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[deviceID]
	return s != nil && s.sn == sn
}

// endSubscription sends the SUBSCRIBE with Expires: 0, after a refresh in
// flight.
func (c *Client) endSubscription(s *subscription) {
	defer c.wg.Done()
	s.dlgMu.Lock()
	defer s.dlgMu.Unlock()
	if !s.dlg.Active() {
		return
	}
	body, err := c.catalogQuery(s.deviceID, c.nextSN())
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.QueryTimeout)
	defer cancel()
	if _, err := c.subscribe(ctx, &s.dlg, 0, body); err != nil && c.ctx.Err() == nil {
		c.log.Info("catalog unsubscribe not acknowledged", "device_id", s.deviceID, "err", err)
		return
	}
	c.log.Info("catalog unsubscribed", "device_id", s.deviceID)
}
