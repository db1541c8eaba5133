package gb

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Refresh scheduling.
const (
	// maxRefreshing bounds the catalog refreshes in flight at once. A
	// refresh is one SUBSCRIBE transaction, answered in milliseconds on a
	// LAN; 32 at a time refresh 5,000 devices in well under a minute even
	// when each takes a second, and keep a wave of them from costing a
	// goroutine and a transaction per device.
	maxRefreshing = 32
	// refreshJitter spreads refreshes by ±10 %: devices that subscribed
	// together (a site powering up) would otherwise refresh in the same
	// second, lifetime after lifetime.
	refreshJitter = 0.1
)

// jitter returns d changed by a random ±refreshJitter, at least
// minRefresh. refreshAfter's 4/5 stays below the lifetime: at most
// 0.88 of it.
func jitter(d time.Duration) time.Duration {
	f := 1 - refreshJitter + 2*refreshJitter*rand.Float64()
	return max(time.Duration(float64(d)*f), minRefresh)
}

// refreshQueue is a min-heap of subscriptions by refresh time
// (container/heap). Its entries' index fields follow their positions.
type refreshQueue []*subscription

func (q refreshQueue) Len() int           { return len(q) }
func (q refreshQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }

func (q refreshQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *refreshQueue) Push(x any) {
	s := x.(*subscription)
	s.index = len(*q)
	*q = append(*q, s)
}

func (q *refreshQueue) Pop() any {
	old := *q
	n := len(old) - 1
	s := old[n]
	old[n] = nil
	s.index = -1
	*q = old[:n]
	return s
}

// scheduleLocked queues s for a refresh after d (jittered), and starts the
// scheduler if it does not run yet. c.mu is held and c.ctx lives.
func (c *Client) scheduleLocked(s *subscription, d time.Duration) {
	s.at = time.Now().Add(jitter(d))
	if s.index >= 0 {
		heap.Fix(&c.queue, s.index)
	} else {
		heap.Push(&c.queue, s)
	}
	if !c.scheduling {
		c.scheduling = true
		c.wg.Add(1)
		go c.runScheduler()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stopLocked stops s's refreshes: it leaves the queue, and a refresh in
// flight does not queue it again. c.mu is held.
func (c *Client) stopLocked(s *subscription) {
	s.stopped = true
	if s.index >= 0 {
		heap.Remove(&c.queue, s.index)
	}
}

// runScheduler starts the refreshes as they fall due until Close: one
// goroutine and one timer for all the subscriptions, and a goroutine for
// each refresh only while its SUBSCRIBE is in flight, at most
// maxRefreshing of them.
func (c *Client) runScheduler() {
	defer c.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		wait, queued := time.Duration(0), len(c.queue) > 0
		if queued {
			wait = time.Until(c.queue[0].at)
		}
		c.mu.Unlock()
		if queued && wait <= 0 {
			// Take a slot first, so that the subscription stays queued (and
			// Unsubscribe can drop it) while all the slots are busy.
			select {
			case c.refreshing <- struct{}{}:
			case <-c.ctx.Done():
				return
			}
			c.startDue()
			continue
		}
		if queued {
			t.Reset(wait)
		} else {
			t.Stop()
		}
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}

// startDue starts the refresh of the first due subscription with the slot
// the caller took, or gives the slot back.
func (c *Client) startDue() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() == nil && len(c.queue) > 0 && !time.Now().Before(c.queue[0].at) {
		s := heap.Pop(&c.queue).(*subscription)
		c.wg.Add(1)
		go c.refresh(s)
		return
	}
	<-c.refreshing
}

// refresh sends one refresh SUBSCRIBE for s and queues the next one.
func (c *Client) refresh(s *subscription) {
	defer c.wg.Done()
	defer func() { <-c.refreshing }()
	s.dlgMu.Lock()
	defer s.dlgMu.Unlock()
	log := c.log.With("device_id", s.deviceID)
	sn := c.nextSN()
	c.mu.Lock()
	if s.stopped {
		// Unsubscribed or replaced since it fell due; whoever stopped it
		// owns the dialog now.
		c.mu.Unlock()
		return
	}
	s.sn = sn
	c.mu.Unlock()
	body, err := c.catalogQuery(s.deviceID, sn)
	if err != nil {
		log.Error("catalog subscription body", "err", err)
		c.drop(s)
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.QueryTimeout)
	g, err := c.subscribe(ctx, &s.dlg, s.expires, body)
	cancel()
	var next time.Duration
	switch {
	case err == nil && g > 0:
		log.Debug("catalog subscription refreshed", "expires", g)
		next = refreshAfter(g)
	case err == nil:
		log.Warn("device granted the catalog subscription no lifetime; retrying")
		next = retryAfter(s.expires)
	case errors.Is(err, ErrNotRegistered):
		log.Info("catalog subscription ended: device not registered")
		c.drop(s)
		return
	case c.ctx.Err() != nil:
		return
	default:
		log.Warn("catalog subscription refresh failed; retrying", "err", err)
		next = retryAfter(s.expires)
	}
	c.mu.Lock()
	if !s.stopped && c.ctx.Err() == nil {
		c.scheduleLocked(s, next)
	}
	c.mu.Unlock()
}

// drop ends the refreshes of s, which stays the device's subscription no
// longer.
func (c *Client) drop(s *subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked(s)
	if c.subs[s.deviceID] == s {
		delete(c.subs, s.deviceID)
	}
}
