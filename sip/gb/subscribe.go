package gb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
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

// subscription is a catalog subscription the Client keeps alive.
type subscription struct {
	deviceID string
	expires  time.Duration
	// sn is the SN of the last SUBSCRIBE's query (c.mu).
	sn int64
	// dlg belongs to the refresh goroutine once it runs.
	dlg         sip.Subscription
	unsubscribe atomic.Bool
	stop        chan struct{} // closed by whoever removes it from c.subs
	done        chan struct{} // closed when the refresh goroutine returns
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
// grants until Unsubscribe, Close, or the device is no longer registered.
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
		close(old.stop)
		<-old.done
		dlg = old.dlg
	}
	sn := c.nextSN()
	if !dlg.Active() {
		dlg.Event = "Catalog;id=" + strconv.FormatInt(sn, 10)
	}
	s := &subscription{deviceID: deviceID, expires: expires, sn: sn, dlg: dlg,
		stop: make(chan struct{}), done: make(chan struct{})}
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
	other := c.subs[deviceID] // a concurrent SubscribeCatalog: the last one wins
	c.subs[deviceID] = s
	c.wg.Add(1)
	c.mu.Unlock()
	if other != nil {
		close(other.stop)
	}
	go c.keepSubscription(s, granted)
	c.log.Info("catalog subscribed", "device_id", deviceID, "expires", granted)
	return nil
}

// Unsubscribe ends a device's catalog subscription: the refreshes stop and
// a SUBSCRIBE with Expires: 0 is sent in the background. Call it when the
// device unregisters too (the refresh would stop by itself at its next
// attempt).
func (c *Client) Unsubscribe(deviceID string) {
	s := c.takeSubscription(deviceID)
	if s == nil {
		return
	}
	s.unsubscribe.Store(true)
	close(s.stop)
}

// takeSubscription removes and returns a device's subscription.
func (c *Client) takeSubscription(deviceID string) *subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[deviceID]
	delete(c.subs, deviceID)
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

// keepSubscription refreshes s until it is stopped.
func (c *Client) keepSubscription(s *subscription, granted time.Duration) {
	defer c.wg.Done()
	defer close(s.done)
	log := c.log.With("device_id", s.deviceID)
	t := time.NewTimer(refreshAfter(granted))
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-s.stop:
			if s.unsubscribe.Load() {
				c.endSubscription(s)
			}
			return
		case <-t.C:
		}
		sn := c.nextSN()
		c.mu.Lock()
		s.sn = sn
		c.mu.Unlock()
		body, err := c.catalogQuery(s.deviceID, sn)
		if err != nil {
			log.Error("catalog subscription body", "err", err)
			return
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.QueryTimeout)
		g, err := c.subscribe(ctx, &s.dlg, s.expires, body)
		cancel()
		switch {
		case err == nil && g > 0:
			log.Debug("catalog subscription refreshed", "expires", g)
			t.Reset(refreshAfter(g))
		case err == nil:
			log.Warn("device granted the catalog subscription no lifetime; retrying")
			t.Reset(retryAfter(s.expires))
		case errors.Is(err, ErrNotRegistered):
			log.Info("catalog subscription ended: device not registered")
			c.mu.Lock()
			if c.subs[s.deviceID] == s {
				delete(c.subs, s.deviceID)
			}
			c.mu.Unlock()
			return
		case c.ctx.Err() != nil:
			return
		default:
			log.Warn("catalog subscription refresh failed; retrying", "err", err)
			t.Reset(retryAfter(s.expires))
		}
	}
}

// endSubscription sends the SUBSCRIBE with Expires: 0.
func (c *Client) endSubscription(s *subscription) {
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
