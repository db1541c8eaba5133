package main

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// reportPoll is how often the registration report looks at the devices'
// counters: its times are exact to this much. The device package has no
// callback on a 200 OK, and polling keeps the simulated devices the same
// with or without -report.
const reportPoll = 5 * time.Millisecond

// statser is what the report reads of a device.
type statser interface {
	Stats() gbsim.Stats
}

// regReport times a load run's registrations: from the first REGISTER sent
// (the first Start) until each device's first 200 OK arrived, as the
// devices see them.
type regReport struct {
	mu      sync.Mutex
	start   time.Time
	waiting []statser       // started, not registered yet
	times   []time.Duration // since start, of each device registered
	total   int
	done    chan struct{} // closed when every started device registered
	stop    chan struct{}
	closed  sync.Once
	stopped chan struct{}
}

func newRegReport(total int) *regReport {
	return &regReport{total: total, done: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// add counts a device about to be started; the first one starts the clock
// and the poller.
func (r *regReport) add(d statser) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start.IsZero() {
		r.start = time.Now()
		go r.poll()
	}
	r.waiting = append(r.waiting, d)
}

func (r *regReport) poll() {
	defer close(r.stopped)
	t := time.NewTicker(reportPoll)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			if r.check(now) {
				close(r.done)
				return
			}
		}
	}
}

// check moves the devices registered by now out of the waiting list and
// reports whether all total devices are registered.
func (r *regReport) check(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at := now.Sub(r.start)
	r.waiting = slices.DeleteFunc(r.waiting, func(d statser) bool {
		if d.Stats().Registrations > 0 {
			r.times = append(r.times, at)
			return true
		}
		return false
	})
	return len(r.times) == r.total
}

// close stops the poller.
func (r *regReport) close() {
	r.closed.Do(func() {
		close(r.stop)
		r.mu.Lock()
		started := !r.start.IsZero()
		r.mu.Unlock()
		if started {
			<-r.stopped
		}
	})
}

// String is the report line: when the first REGISTER went out, and how
// long until half, 90 % and all of the devices had their 200 OK.
func (r *regReport) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.start.IsZero() {
		return "registration report: no device started"
	}
	q := func(p int) string {
		n := (r.total*p + 99) / 100
		if n == 0 || n > len(r.times) {
			return "-"
		}
		return r.times[n-1].Round(time.Millisecond).String()
	}
	return fmt.Sprintf("registration report: first REGISTER at %s; %d/%d registered; 200 OK of 50%% after %s, 90%% after %s, 100%% after %s (±%s)",
		r.start.UTC().Format(time.RFC3339Nano), len(r.times), r.total, q(50), q(90), q(100), reportPoll)
}
