package sip

import (
	"context"
	"flag"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

var (
	loadDevices  = flag.Int("sip.load", 0, "register this many simulated devices in TestLoadRegister (0 skips it)")
	loadParallel = flag.Int("sip.load.parallel", 200, "registrations in flight at once in TestLoadRegister")
)

// TestLoadRegister registers many simulated devices with digest auth over
// UDP and reports the time. Run with e.g.
//
//	go test ./sip/ -run TestLoadRegister -v -args -sip.load=1000
func TestLoadRegister(t *testing.T) {
	if *loadDevices <= 0 || testing.Short() {
		t.Skip("set -sip.load=N to run")
	}
	n := *loadDevices
	reg := newFakeRegistry()
	s, _ := newTestServer(t, func(s *Server) { s.Registry = reg })

	devices := make([]*gbsim.Device, n)
	for i := range devices {
		d, err := gbsim.New(gbsim.Config{DeviceID: gbsim.MakeID(132, i+1), Password: "12345678",
			Server: s.Addr(), Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		devices[i] = d
		t.Cleanup(func() { _ = d.Close() })
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var failed atomic.Int64
	sem := make(chan struct{}, *loadParallel)
	var wg sync.WaitGroup
	start := time.Now()
	for _, d := range devices {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := d.Register(ctx); err != nil {
				failed.Add(1)
				t.Logf("%s: %v", d.ID(), err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	registered := len(s.Registrations())
	t.Logf("%d devices registered with digest over UDP in %s (%.0f/s, %d failed, %d in flight at once)",
		registered, elapsed.Round(time.Millisecond), float64(registered)/elapsed.Seconds(), failed.Load(), *loadParallel)
	if registered != n || failed.Load() != 0 {
		t.Errorf("%d of %d registered", registered, n)
	}
	st := s.TransportStats()
	t.Logf("transport: %+v", st)
}
