package sip

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// logBuffer collects log lines; it is dumped when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) count(s string) int { return strings.Count(b.String(), s) }

func newLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// registryEvent is one call to the fake Registry.
type registryEvent struct {
	registered bool
	info       RegisterInfo
	deviceID   string
	reason     UnregisterReason
}

// fakeRegistry records events on a channel.
type fakeRegistry struct{ events chan registryEvent }

func newFakeRegistry() *fakeRegistry { return &fakeRegistry{events: make(chan registryEvent, 10000)} }

func (r *fakeRegistry) Registered(_ context.Context, info RegisterInfo) {
	r.events <- registryEvent{registered: true, info: info, deviceID: info.DeviceID}
}

func (r *fakeRegistry) Unregistered(_ context.Context, id string, reason UnregisterReason) {
	r.events <- registryEvent{deviceID: id, reason: reason}
}

func (r *fakeRegistry) next(t testing.TB, timeout time.Duration) registryEvent {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(timeout):
		t.Fatalf("no registry event within %s", timeout)
		return registryEvent{}
	}
}

func (r *fakeRegistry) none(t testing.TB, wait time.Duration) {
	t.Helper()
	select {
	case ev := <-r.events:
		t.Fatalf("unexpected registry event %+v", ev)
	case <-time.After(wait):
	}
}

// fakeHandler records messages.
type fakeHandler struct{ msgs chan Message }

func (h *fakeHandler) HandleMessage(_ context.Context, m Message) { h.msgs <- m }

// passwords is a Credentials backed by a map.
type passwords map[string]string

func (p passwords) Password(_ context.Context, id string) (string, bool) {
	pw, ok := p[id]
	return pw, ok
}

func newTestServer(t testing.TB, mutate func(*Server)) (*Server, *logBuffer) {
	t.Helper()
	logger, lb := newLogger(t)
	s := &Server{ListenAddr: "127.0.0.1:0", Password: "12345678", Logger: logger}
	if mutate != nil {
		mutate(s)
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, lb
}

func newSim(t testing.TB, s *Server, id string, mutate func(*gbsim.Config)) *gbsim.Device {
	t.Helper()
	cfg := gbsim.Config{DeviceID: id, Password: "12345678", Server: s.Addr(), Timeout: 3 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := gbsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// rawUDP is a bare UDP socket for sending hand-made datagrams.
type rawUDP struct {
	t testing.TB
	c *net.UDPConn
}

func newRawUDP(t testing.TB, server string) *rawUDP {
	t.Helper()
	sa, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, sa)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawUDP{t: t, c: c}
}

func (r *rawUDP) send(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// read returns the next datagram, or "" after the timeout.
func (r *rawUDP) read(timeout time.Duration) string {
	buf := make([]byte, 65536)
	_ = r.c.SetReadDeadline(time.Now().Add(timeout))
	n, err := r.c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}
