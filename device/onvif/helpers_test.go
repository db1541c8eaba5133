package onvif

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif/onvifsim"
)

const (
	testUser = "admin"
	testPass = "Pa55&word<>"
)

// checkGoroutines fails the test if goroutines of the simulator or of this
// package's HTTP client are still running once the test and its cleanups
// are done. Register it first so its cleanup runs last.
func checkGoroutines(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var leaked []string
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			for g := range strings.SplitSeq(string(buf), "\n\n") {
				if strings.Contains(g, "onvif.checkGoroutines") {
					continue
				}
				if strings.Contains(g, "device/onvif/onvifsim.") || strings.Contains(g, "net/http.(*persistConn)") ||
					strings.Contains(g, "net/http.(*conn).serve") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// loopbackTransport refuses to dial anything but 127.0.0.1: if the NAT
// rewrite had a bug, the test must fail rather than reach a real network.
func loopbackTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil || host != "127.0.0.1" {
				return nil, fmt.Errorf("test refuses to dial %s", addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// newSim starts a simulator with the test account unless cfg names one.
func newSim(t *testing.T, cfg onvifsim.Config) *onvifsim.Server {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username, cfg.Password = testUser, testPass
	}
	s, err := onvifsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func contextCancelledSoon(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(d, cancel)
	return ctx, cancel
}
