package main

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// fakeDevice registers when told.
type fakeDevice struct{ registered atomic.Bool }

func (f *fakeDevice) Stats() gbsim.Stats {
	if f.registered.Load() {
		return gbsim.Stats{Registrations: 1}
	}
	return gbsim.Stats{}
}

// The report closes done once every device registered, and says how far a
// run got when it did not.
func TestRegReport(t *testing.T) {
	if s := newRegReport(2).String(); !strings.Contains(s, "no device started") {
		t.Errorf("before start: %s", s)
	}

	r := newRegReport(2)
	defer r.close()
	a, b := &fakeDevice{}, &fakeDevice{}
	r.add(a)
	r.add(b)
	a.registered.Store(true)
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(r.String(), "1/2 registered") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s := r.String(); !strings.Contains(s, "1/2 registered") || !strings.Contains(s, "50% after ") || !strings.Contains(s, "100% after -") {
		t.Errorf("half registered: %s", s)
	}
	b.registered.Store(true)
	select {
	case <-r.done:
	case <-time.After(2 * time.Second):
		t.Fatalf("done not closed: %s", r)
	}
	if s := r.String(); !strings.Contains(s, "2/2 registered") || strings.Contains(s, "after -") {
		t.Errorf("all registered: %s", s)
	}
	r.close()
	r.close() // twice is fine
}
