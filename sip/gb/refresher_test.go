package gb

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
)

// fakeSubscriber stands in for Server.Subscribe and records when each
// device was sent a SUBSCRIBE.
type fakeSubscriber struct {
	granted time.Duration
	// fail, when set, is returned for the refreshes (not the first
	// SUBSCRIBE) while it is set.
	fail atomic.Pointer[error]
	// hold makes refreshes wait for release (or their context).
	hold    atomic.Bool
	release chan struct{}

	mu          sync.Mutex
	calls       map[string][]time.Time
	inFlight    int
	maxInFlight int
}

func newFakeSubscriber(granted time.Duration) *fakeSubscriber {
	return &fakeSubscriber{granted: granted, release: make(chan struct{}), calls: map[string][]time.Time{}}
}

func (f *fakeSubscriber) subscribe(ctx context.Context, sub *sip.Subscription, expires time.Duration, _ []byte) (time.Duration, error) {
	f.mu.Lock()
	first := len(f.calls[sub.DeviceID]) == 0
	f.calls[sub.DeviceID] = append(f.calls[sub.DeviceID], time.Now())
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if first {
		return f.granted, nil
	}
	if f.hold.Load() {
		select {
		case <-f.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := f.fail.Load(); err != nil {
		return 0, *err
	}
	if expires == 0 {
		return 0, nil
	}
	return f.granted, nil
}

// times returns when each SUBSCRIBE was sent to a device.
func (f *fakeSubscriber) times(deviceID string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.calls[deviceID]...)
}

// total returns the number of SUBSCRIBEs sent.
func (f *fakeSubscriber) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += len(c)
	}
	return n
}

func (f *fakeSubscriber) inFlightNow() (now, most int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inFlight, f.maxInFlight
}

// fakeClient returns an initialized Client whose SUBSCRIBEs go to f. The
// caller closes it.
func fakeClient(f *fakeSubscriber) *Client {
	c := &Client{Events: nopEvents{}, QueryTimeout: time.Second}
	c.send = func(context.Context, string, []byte) error { return nil }
	c.subscribe = f.subscribe
	c.Initialize()
	return c
}

func deviceID(i int) string { return fmt.Sprintf("3402000000132%07d", i) }

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > n {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, want at most %d:\n%s", g, n, buf[:runtime.Stack(buf, true)])
	}
}

func subscribeAll(t *testing.T, c *Client, n int, expires time.Duration) {
	t.Helper()
	for i := range n {
		if err := c.SubscribeCatalog(t.Context(), deviceID(i), expires); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJitter(t *testing.T) {
	const d = 48 * time.Minute
	lo, hi := d, time.Duration(0)
	for range 10000 {
		j := jitter(d)
		lo, hi = min(lo, j), max(hi, j)
	}
	if lo < d*9/10 || hi > d*11/10 {
		t.Errorf("jitter of %s in [%s, %s], want within ±10 %%", d, lo, hi)
	}
	if hi-lo < d/6 { // 10,000 draws cover nearly all of the 20 % window
		t.Errorf("jitter of %s spread over %s only", d, hi-lo)
	}
	if j := jitter(time.Millisecond); j != minRefresh {
		t.Errorf("jitter(1ms) = %s, want minRefresh", j)
	}
	// Refreshes stay before the lifetime ends.
	for range 1000 {
		if r := jitter(refreshAfter(time.Hour)); r >= 54*time.Minute {
			t.Fatalf("refresh after %s of a 1-h lifetime", r)
		}
	}
}

// Thousands of subscriptions are refreshed by one goroutine, not one each;
// Close stops it.
func TestRefreshOneGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFakeSubscriber(time.Hour)
	c := fakeClient(f)
	subscribeAll(t, c, 2000, time.Hour)
	if g := runtime.NumGoroutine(); g > base+1 {
		t.Errorf("%d goroutines for 2,000 subscriptions, %d before", g, base)
	}
	c.mu.Lock()
	queued := len(c.queue)
	c.mu.Unlock()
	if queued != 2000 {
		t.Errorf("%d queued", queued)
	}
	c.Close()
	waitGoroutines(t, base)
}

// Devices that subscribed together refresh spread over ±10 % of 4/5 of
// their lifetime, before it ends.
func TestRefreshSpread(t *testing.T) {
	base := runtime.NumGoroutine()
	const n, granted = 200, time.Second
	f := newFakeSubscriber(granted)
	c := fakeClient(f)
	defer func() { c.Close(); waitGoroutines(t, base) }()
	subscribeAll(t, c, n, granted)
	time.Sleep(granted)
	var lo, hi time.Duration = time.Hour, 0
	for i := range n {
		ts := f.times(deviceID(i))
		if len(ts) < 2 {
			t.Fatalf("device %d not refreshed within %s", i, granted)
		}
		d := ts[1].Sub(ts[0])
		lo, hi = min(lo, d), max(hi, d)
	}
	// 4/5 of 1 s ± 10 %: 0.72–0.88 s, plus scheduling latency (-race).
	if lo < 720*time.Millisecond || hi >= granted {
		t.Errorf("refreshed %s–%s after subscribing, want within 0.72–0.88 s", lo, hi)
	}
	if hi-lo < 100*time.Millisecond {
		t.Errorf("refreshes spread over %s only (%s–%s)", hi-lo, lo, hi)
	}
}

// Unsubscribe stops the refreshes of that device only.
func TestUnsubscribeStopsRefresh(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFakeSubscriber(200 * time.Millisecond)
	c := fakeClient(f)
	defer func() { c.Close(); waitGoroutines(t, base) }()
	subscribeAll(t, c, 2, 200*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	c.Unsubscribe(deviceID(0))
	// A refresh in flight may still end after Unsubscribe; none starts.
	time.Sleep(50 * time.Millisecond)
	stopped, other := len(f.times(deviceID(0))), len(f.times(deviceID(1)))
	time.Sleep(600 * time.Millisecond)
	if n := len(f.times(deviceID(0))); n != stopped {
		t.Errorf("%d SUBSCRIBEs after Unsubscribe", n-stopped)
	}
	if n := len(f.times(deviceID(1))); n < other+2 {
		t.Errorf("the other device: %d refreshes in 600 ms", n-other)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) != 1 || c.subs[deviceID(0)] != nil {
		t.Errorf("queue %d, subs %v", len(c.queue), c.subs)
	}
}

// A failed refresh is retried after retryAfter, and the refreshes go on
// once the device answers again.
func TestRefreshRetried(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFakeSubscriber(time.Second)
	c := fakeClient(f)
	defer func() { c.Close(); waitGoroutines(t, base) }()
	err := ErrTimeout
	f.fail.Store(&err)
	subscribeAll(t, c, 1, time.Second)
	time.Sleep(1200 * time.Millisecond) // first refresh at ~0.8 s, retries every ~0.1 s
	ts := f.times(deviceID(0))
	if len(ts) < 4 {
		t.Fatalf("%d SUBSCRIBEs, want the refresh and retries", len(ts))
	}
	if d := ts[2].Sub(ts[1]); d < 90*time.Millisecond || d > 300*time.Millisecond {
		t.Errorf("retried after %s, want about retryAfter(1s) = 100 ms", d)
	}
	f.fail.Store(nil)
	time.Sleep(300 * time.Millisecond)
	n := len(f.times(deviceID(0)))
	// Back to a refresh every 0.72–0.88 s: 1 or 2 in a second, not the
	// 10 of retries.
	time.Sleep(time.Second)
	if m := len(f.times(deviceID(0))) - n; m < 1 || m > 2 {
		t.Errorf("%d SUBSCRIBEs in the second after the device answered again", m)
	}
}

// A refresh answered "not registered" ends the subscription.
func TestRefreshNotRegistered(t *testing.T) {
	f := newFakeSubscriber(200 * time.Millisecond)
	c := fakeClient(f)
	defer c.Close()
	err := fmt.Errorf("SUBSCRIBE: %w", ErrNotRegistered)
	f.fail.Store(&err)
	subscribeAll(t, c, 1, 200*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	if n := len(f.times(deviceID(0))); n != 2 {
		t.Errorf("%d SUBSCRIBEs, want 2", n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) != 0 || len(c.subs) != 0 {
		t.Errorf("queue %d, subs %d", len(c.queue), len(c.subs))
	}
}

// At most maxRefreshing refreshes are in flight, each in its own
// goroutine; Close ends them and everything else.
func TestRefreshBoundedAndClose(t *testing.T) {
	base := runtime.NumGoroutine()
	const n = 200
	f := newFakeSubscriber(100 * time.Millisecond)
	c := fakeClient(f)
	c.QueryTimeout = time.Minute
	f.hold.Store(true)
	subscribeAll(t, c, n, 100*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for now, _ := f.inFlightNow(); now < maxRefreshing && time.Now().Before(deadline); now, _ = f.inFlightNow() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	now, most := f.inFlightNow()
	if now != maxRefreshing || most != maxRefreshing {
		t.Errorf("%d refreshes in flight (at most %d), want %d", now, most, maxRefreshing)
	}
	if g := runtime.NumGoroutine(); g > base+1+maxRefreshing {
		t.Errorf("%d goroutines, %d before", g, base)
	}
	// The held refreshes end with Close, and no other starts.
	c.Close()
	sent := f.total()
	waitGoroutines(t, base)
	time.Sleep(200 * time.Millisecond)
	if f.total() != sent {
		t.Errorf("%d SUBSCRIBEs after Close", f.total()-sent)
	}
	if err := c.SubscribeCatalog(t.Context(), deviceID(0), time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("SubscribeCatalog after Close: %v", err)
	}
}

// Subscribing again takes over the dialog after the refresh in flight and
// leaves one queued entry.
func TestResubscribeReplaces(t *testing.T) {
	base := runtime.NumGoroutine()
	f := newFakeSubscriber(time.Hour)
	c := fakeClient(f)
	defer func() { c.Close(); waitGoroutines(t, base) }()
	for range 5 {
		subscribeAll(t, c, 10, time.Hour)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) != 10 || len(c.subs) != 10 {
		t.Errorf("queue %d, subs %d", len(c.queue), len(c.subs))
	}
	for i, s := range c.queue {
		if s.index != i || s.stopped || c.subs[s.deviceID] != s {
			t.Errorf("queue[%d] = %+v", i, s)
		}
	}
}
