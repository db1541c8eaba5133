package gb_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/gb"
	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/manscdp"
)

var transports = []string{"udp", "tcp"}

const password = "12345678"

// logBuffer collects log lines; they are printed when a test fails.
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

func (b *logBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }

func newLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// event is one call to the recording Events.
type event struct {
	kind       string
	deviceID   string
	channelID  string
	items      []manscdp.CatalogItem
	alarm      *manscdp.Alarm
	position   *manscdp.MobilePosition
	notifyType string
	callID     string
}

// recorder is an Events that puts every call on a channel.
type recorder struct{ ch chan event }

func (r *recorder) Keepalive(_ context.Context, id string, _ time.Time) {
	r.ch <- event{kind: "keepalive", deviceID: id}
}

func (r *recorder) CatalogEvent(_ context.Context, id string, items []manscdp.CatalogItem) {
	r.ch <- event{kind: "catalog", deviceID: id, items: items}
}

func (r *recorder) Alarm(_ context.Context, id, channel string, a *manscdp.Alarm) {
	r.ch <- event{kind: "alarm", deviceID: id, channelID: channel, alarm: a}
}

func (r *recorder) MobilePosition(_ context.Context, id, channel string, p *manscdp.MobilePosition) {
	r.ch <- event{kind: "position", deviceID: id, channelID: channel, position: p}
}

func (r *recorder) MediaStatus(_ context.Context, id, callID, notifyType string) {
	r.ch <- event{kind: "media", deviceID: id, callID: callID, notifyType: notifyType}
}

// next returns the next event of kind, skipping others (keepalives of
// background devices, for one).
func (r *recorder) next(t testing.TB, kind string, timeout time.Duration) event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-r.ch:
			if ev.kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", kind, timeout)
			return event{}
		}
	}
}

// env is a platform: a SIP server with a gb.Client as its handler.
type env struct {
	server *sip.Server
	client *gb.Client
	events *recorder
	log    *logBuffer

	mu  sync.Mutex
	raw [][]byte // bodies as received, before the client
}

// HandleMessage records the raw body and passes the message on to the
// client.
func (e *env) HandleMessage(ctx context.Context, m sip.Message) {
	e.mu.Lock()
	if len(e.raw) < 1000 {
		e.raw = append(e.raw, m.Body)
	}
	e.mu.Unlock()
	e.client.HandleMessage(ctx, m)
}

// rawBodies returns the bodies received so far, joined.
func (e *env) rawBodies() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Join(e.raw, nil)
}

func newEnv(t testing.TB, mutate func(*gb.Client)) *env {
	t.Helper()
	logger, lb := newLogger(t)
	e := &env{events: &recorder{ch: make(chan event, 10000)}, log: lb}
	e.server = &sip.Server{ListenAddr: "127.0.0.1:0", Password: password, Logger: logger}
	e.client = &gb.Client{Server: e.server, Events: e.events, QueryTimeout: 2 * time.Second,
		CatalogTimeout: 5 * time.Second, Logger: logger}
	if mutate != nil {
		mutate(e.client)
	}
	e.client.Initialize()
	e.server.Handler = e
	if err := e.server.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.client.Close()
		_ = e.server.Close()
	})
	return e
}

// device starts a registered simulated device.
func (e *env) device(t testing.TB, mutate func(*gbsim.Config)) *gbsim.Device {
	t.Helper()
	cfg := gbsim.Config{DeviceID: gbsim.MakeID(132, 1), Password: password, Server: e.server.Addr(),
		Timeout: 3 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := gbsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	return d
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func gbsimAlarm() manscdp.Alarm {
	return manscdp.Alarm{AlarmPriority: 1, AlarmMethod: 2, AlarmDescription: "测试"}
}
