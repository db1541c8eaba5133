package sip

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// storingRegistry is a fakeRegistry that also keeps registrations across
// restarts (RegistrationStore).
type storingRegistry struct {
	*fakeRegistry
	stored []RegisterInfo
	err    error
}

func (r *storingRegistry) StoredRegistrations(context.Context) ([]RegisterInfo, error) {
	return r.stored, r.err
}

// A restored UDP registration routes requests without a REGISTER, counts
// the device's messages as registered, and gives way to its next REGISTER.
func TestRestore(t *testing.T) {
	reg := newFakeRegistry()
	h := &fakeHandler{msgs: make(chan Message, 10)}
	s, logs := newTestServer(t, func(s *Server) { s.Registry, s.Handler = reg, h })
	d := newSim(t, s, ipcID, nil)
	now := time.Now()
	info := RegisterInfo{DeviceID: ipcID, RemoteAddr: d.LocalAddr(), Transport: "udp",
		RegisteredAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
	if ok, err := s.Restore(info); !ok || err != nil {
		t.Fatalf("Restore: %v %v", ok, err)
	}
	got, ok := s.Registration(ipcID)
	if !ok || !got.Restored || got.Transport != "UDP" || got.RemoteAddr != d.LocalAddr() ||
		got.Expires != time.Hour+time.Minute || !got.ExpiresAt.Equal(info.ExpiresAt) {
		t.Fatalf("registration %+v", got)
	}
	if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery); err != nil {
		t.Fatal(err)
	}
	if in, _ := d.WaitReceived(ctxTimeout(t, time.Second), 1); len(in) != 1 || in[0].Method != "MESSAGE" {
		t.Fatalf("device received %+v", in)
	}
	if err := d.Keepalive(ctxTimeout(t, 3*time.Second)); err != nil {
		t.Fatal(err)
	}
	// The device answers the catalog query too: every message of it counts
	// as from a registered device.
	for m := range h.msgs {
		if !m.Registered || m.DeviceID != ipcID {
			t.Fatalf("message of a restored device handed over as %+v", m)
		}
		if strings.Contains(string(m.Body), "Keepalive") {
			break
		}
	}
	reg.none(t, 50*time.Millisecond) // restoring is no registration event

	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	ev := reg.next(t, 2*time.Second)
	if !ev.registered || ev.info.Restored || !ev.info.Refresh {
		t.Errorf("REGISTER of a restored device: %+v", ev)
	}
	if got, _ := s.Registration(ipcID); got.Restored {
		t.Errorf("still restored after a REGISTER: %+v", got)
	}
	if logs.count("its registration from before the restart is replaced") != 1 {
		t.Error("no log line about the restored registration replaced")
	}
	// A live registration is not overwritten by a late restore.
	if ok, err := s.Restore(info); ok || err != nil {
		t.Errorf("Restore over a live registration: %v %v", ok, err)
	}
	if got, _ := s.Registration(ipcID); got.Restored {
		t.Errorf("a restore replaced a REGISTER: %+v", got)
	}
}

// A restored registration expires like any other.
func TestRestoreExpires(t *testing.T) {
	reg := newFakeRegistry()
	s, _ := newTestServer(t, func(s *Server) { s.Registry = reg; s.ExpiryCheckInterval = 20 * time.Millisecond })
	now := time.Now()
	if ok, err := s.Restore(RegisterInfo{DeviceID: ipcID, RemoteAddr: "127.0.0.1:5999", Transport: "UDP",
		RegisteredAt: now.Add(-time.Hour), ExpiresAt: now.Add(200 * time.Millisecond)}); !ok || err != nil {
		t.Fatalf("Restore: %v %v", ok, err)
	}
	ev := reg.next(t, 2*time.Second)
	if ev.registered || ev.deviceID != ipcID || ev.reason != UnregisterExpired {
		t.Fatalf("event %+v", ev)
	}
	if el := time.Since(now); el < 200*time.Millisecond {
		t.Errorf("expired after %s", el)
	}
	if _, ok := s.Registration(ipcID); ok {
		t.Error("still registered")
	}
	if err := s.SendMessage(ctxTimeout(t, time.Second), ipcID, catalogQuery); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("SendMessage after expiry: %v", err)
	}
}

func TestRestoreInvalid(t *testing.T) {
	s, _ := newTestServer(t, func(s *Server) { s.MaxExpires = time.Hour })
	now := time.Now()
	valid := RegisterInfo{DeviceID: ipcID, RemoteAddr: "127.0.0.1:5999", Transport: "UDP", ExpiresAt: now.Add(time.Minute)}
	for _, c := range []struct {
		name    string
		mutate  func(*RegisterInfo)
		wantErr string
	}{
		{"short ID", func(i *RegisterInfo) { i.DeviceID = "3402" }, "20 digits"},
		{"host name", func(i *RegisterInfo) { i.RemoteAddr = "camera.example:5060" }, "remote address"},
		{"no port", func(i *RegisterInfo) { i.RemoteAddr = "127.0.0.1" }, "remote address"},
		{"transport", func(i *RegisterInfo) { i.Transport = "SCTP" }, "transport"},
		{"expired", func(i *RegisterInfo) { i.ExpiresAt = now.Add(-time.Second) }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			info := valid
			c.mutate(&info)
			ok, err := s.Restore(info)
			if ok || (c.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Restore: %v %v, want error %q", ok, err, c.wantErr)
			}
			if _, ok := s.Registration(info.DeviceID); ok {
				t.Error("restored")
			}
		})
	}
	// A lifetime longer than MaxExpires is cut to it; an IPv4-mapped
	// address is stored as the transport reports sources.
	info := valid
	info.RemoteAddr, info.ExpiresAt = "[::ffff:127.0.0.1]:5999", now.Add(48*time.Hour)
	if ok, err := s.Restore(info); !ok || err != nil {
		t.Fatalf("Restore: %v %v", ok, err)
	}
	if got, _ := s.Registration(ipcID); got.RemoteAddr != "127.0.0.1:5999" || got.ExpiresAt.After(time.Now().Add(time.Hour)) {
		t.Errorf("registration %+v", got)
	}
}

// Over TCP the connection of a restored registration is gone: requests fail
// at once, without dialling, until the device connects again; then they
// follow its new connection.
func TestRestoreTCP(t *testing.T) {
	s, _ := newTestServer(t, nil)
	// Where the device's old connection came from: a dial there would
	// succeed, and must not happen.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var dialled atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			_ = c.Close()
		}
	}()
	if ok, err := s.Restore(RegisterInfo{DeviceID: ipcID, RemoteAddr: ln.Addr().String(), Transport: "tcp",
		ExpiresAt: time.Now().Add(time.Hour)}); !ok || err != nil {
		t.Fatalf("Restore: %v %v", ok, err)
	}
	began := time.Now()
	err = s.SendMessage(ctxTimeout(t, 5*time.Second), ipcID, catalogQuery)
	if !errors.Is(err, ErrNoConnection) || errors.Is(err, ErrNotRegistered) {
		t.Fatalf("SendMessage to a restored TCP device: %v, want ErrNoConnection", err)
	}
	sub := &Subscription{DeviceID: ipcID, Event: "Catalog"}
	if _, err := s.Subscribe(ctxTimeout(t, 5*time.Second), sub, time.Hour, catalogQuery); !errors.Is(err, ErrNoConnection) || sub.Active() {
		t.Fatalf("Subscribe to a restored TCP device: %v, active %v", err, sub.Active())
	}
	if el := time.Since(began); el > 200*time.Millisecond {
		t.Errorf("failing took %s", el)
	}
	if n := dialled.Load(); n != 0 {
		t.Errorf("the platform dialled the old address %d times", n)
	}

	// The device reconnects and sends a keepalive: it is reachable there.
	d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = "tcp" })
	if err := d.Keepalive(ctxTimeout(t, 3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.SendMessage(ctxTimeout(t, 3*time.Second), ipcID, catalogQuery); err != nil {
		t.Fatal(err)
	}
	if in, _ := d.WaitReceived(ctxTimeout(t, time.Second), 1); len(in) != 1 {
		t.Fatal("the reconnected device did not receive the message")
	}
	if got, _ := s.Registration(ipcID); got.RemoteAddr != d.LocalAddr() || !got.Restored {
		t.Errorf("registration %+v", got)
	}
	if d.Stats().Registrations != 0 {
		t.Error("the device registered")
	}
}

// A Registry that keeps registrations has them restored before the server
// serves; bad records are skipped, a failure to read them is not fatal.
func TestRestoreStored(t *testing.T) {
	now := time.Now()
	good := RegisterInfo{DeviceID: ipcID, RemoteAddr: "127.0.0.1:5999", Transport: "UDP", ExpiresAt: now.Add(time.Hour)}
	bad := RegisterInfo{DeviceID: nvrID, RemoteAddr: "nowhere", Transport: "UDP", ExpiresAt: now.Add(time.Hour)}
	reg := &storingRegistry{fakeRegistry: newFakeRegistry(), stored: []RegisterInfo{good, bad}}
	s, logs := newTestServer(t, func(s *Server) { s.Registry = reg })
	regs := s.Registrations()
	if len(regs) != 1 || regs[0].DeviceID != ipcID || !regs[0].Restored {
		t.Fatalf("registrations %+v", regs)
	}
	if logs.count("stored registration not restored") != 1 || logs.count(`restored=1 stored=2`) != 1 {
		t.Errorf("log:\n%s", logs)
	}

	failing := &storingRegistry{fakeRegistry: newFakeRegistry(), err: errors.New("database is locked")}
	s2, logs2 := newTestServer(t, func(s *Server) { s.Registry = failing })
	if len(s2.Registrations()) != 0 || logs2.count("database is locked") != 1 {
		t.Errorf("registrations %+v, log:\n%s", s2.Registrations(), logs2)
	}
}
