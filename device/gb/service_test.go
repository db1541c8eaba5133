package gb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

const (
	devID = "34020000001320000001"
	camID = "34020000001310000001"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// newService starts a Service over a memStore and a fakeClient with a 100 ms keepalive interval.
func newService(t *testing.T, store *memStore, client *fakeClient) (*Service, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	s := &Service{Store: store, Client: client, KeepaliveInterval: 100 * time.Millisecond, KeepaliveMisses: 2,
		Logger: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := s.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("log:\n%s", lb)
		}
	})
	return s, lb
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSynced waits for the end of a device's sync (its catalog subscription).
func waitSynced(t *testing.T, c *fakeClient) {
	t.Helper()
	select {
	case <-c.synced:
	case <-time.After(10 * time.Second):
		t.Fatal("no sync")
	}
}

func stored(t *testing.T, store *memStore) *device.Device {
	t.Helper()
	d, err := store.DeviceByGBID(context.Background(), devID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestServiceLifecycle follows a device from its first REGISTER through its catalog, a
// keepalive, silence (the watchdog), a keepalive again, and its unregistration.
func TestServiceLifecycle(t *testing.T) {
	store, client := newMemStore(), newFakeClient()
	client.catalog = []manscdp.CatalogItem{{DeviceID: camID, Name: "通道一", Status: "ON", ParentID: devID}}
	client.SetCharset(devID, manscdp.UTF8) // what the client detected in the answers
	s, logs := newService(t, store, client)
	ctx := context.Background()

	if _, known := s.Password(ctx, devID); known {
		t.Fatal("an unknown device is known")
	}
	now := time.Now()
	s.Registered(ctx, sip.RegisterInfo{DeviceID: devID, RemoteAddr: "10.0.0.5:5060", Transport: "UDP",
		RegisteredAt: now, ExpiresAt: now.Add(time.Hour)})
	waitSynced(t, client)
	d := stored(t, store)
	if !d.Online || d.Name != "大门" || d.Manufacturer != "Hikvision" || d.Transport != "udp" ||
		d.RemoteAddr != "10.0.0.5:5060" || d.Charset != "UTF-8" || !d.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("after REGISTER and DeviceInfo: %+v", d)
	}
	chans, _ := store.Channels(ctx, d.ID)
	if len(chans) != 1 || chans[0].GBID != camID || chans[0].Kind != device.KindChannel {
		t.Fatalf("channels %+v", chans)
	}
	if pw, known := s.Password(ctx, devID); !known || pw != "" {
		t.Fatalf("Password = %q, %v", pw, known)
	}

	// No keepalive: the watchdog marks it offline after 2 × 100 ms.
	waitFor(t, "offline", func() bool { return !stored(t, store).Online })
	// The line is written just after the store is updated: wait for it too.
	waitFor(t, "offline log line", func() bool {
		return strings.Contains(logs.String(), `msg="device offline" component=gb device_id=`+devID)
	})
	s.Keepalive(ctx, devID, time.Now())
	if d := stored(t, store); !d.Online || d.LastKeepalive.IsZero() {
		t.Fatalf("after a keepalive: %+v", d)
	}
	waitSynced(t, client) // a device back online is synced again

	s.Unregistered(ctx, devID, sip.UnregisterRequested)
	if d := stored(t, store); d.Online || d.ExpiresAt.After(time.Now()) {
		t.Fatalf("after unregistering: %+v", d)
	}
	// Every message goes to the client, which drops the unregistered device's.
	s.HandleMessage(ctx, sip.Message{Method: "MESSAGE", DeviceID: devID, RemoteAddr: "10.0.0.5:5060"})
	if len(client.messages) != 1 {
		t.Fatalf("the message did not reach the client: %d", len(client.messages))
	}
}

// TestServiceRestart: devices a previous run left online start offline; the registrations that
// have not expired are handed to the SIP server to restore, the others are not.
func TestServiceRestart(t *testing.T) {
	store, client := newMemStore(), newFakeClient()
	ctx := context.Background()
	now := time.Now()
	for i, d := range []*device.Device{
		{GBID: devID, Online: true, Charset: "GB18030", Transport: "udp", RemoteAddr: "10.0.0.5:5060",
			RegisteredAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)},
		{GBID: "34020000001320000002", Transport: "tcp", RemoteAddr: "10.0.0.6:40000", RegisteredAt: now, ExpiresAt: now.Add(time.Hour)},
		{GBID: "34020000001320000003", Transport: "udp", RemoteAddr: "10.0.0.7:5060", ExpiresAt: now.Add(-time.Second)}, // expired
		{GBID: "34020000001320000004"}, // provisioned, never registered
	} {
		d.Type, d.Name = device.TypeGB28181, fmt.Sprint("dev", i)
		if err := store.CreateDevice(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	rtsp := &device.Device{Type: device.TypeRTSP, Name: "cam", RemoteAddr: "10.0.0.8:554", Transport: "tcp", ExpiresAt: now.Add(time.Hour)}
	if err := store.CreateDevice(ctx, rtsp, nil); err != nil {
		t.Fatal(err)
	}
	s, _ := newService(t, store, client)
	if stored(t, store).Online {
		t.Fatal("still online after a restart")
	}
	if client.Charset(devID) != manscdp.GB18030 {
		t.Fatal("charset not seeded")
	}
	regs, err := s.StoredRegistrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(regs, func(a, b sip.RegisterInfo) int { return strings.Compare(a.DeviceID, b.DeviceID) })
	want := []sip.RegisterInfo{
		{DeviceID: devID, RemoteAddr: "10.0.0.5:5060", Transport: "UDP", RegisteredAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)},
		{DeviceID: "34020000001320000002", RemoteAddr: "10.0.0.6:40000", Transport: "TCP", RegisteredAt: now, ExpiresAt: now.Add(time.Hour)},
	}
	if fmt.Sprint(regs) != fmt.Sprint(want) {
		t.Errorf("stored registrations\n got %+v\nwant %+v", regs, want)
	}
	// The restored device's keepalive reaches the client (as from a registered device) and,
	// through Events, brings it online.
	s.HandleMessage(ctx, sip.Message{Method: "MESSAGE", DeviceID: devID, RemoteAddr: "10.0.0.5:5060", Registered: true})
	if len(client.messages) != 1 || !client.messages[0].Registered {
		t.Fatalf("messages passed on: %+v", client.messages)
	}
	s.Keepalive(ctx, devID, time.Now())
	if !stored(t, store).Online {
		t.Fatal("a keepalive did not bring the device back")
	}
}

// TestCatalogEvent applies a notification's events and keeps what an UPDATE leaves out.
func TestCatalogEvent(t *testing.T) {
	store, client := newMemStore(), newFakeClient()
	ctx := context.Background()
	d := &device.Device{Type: device.TypeGB28181, GBID: devID, Name: "x"}
	cam2 := "34020000001310000002"
	if err := store.CreateDevice(ctx, d, []*device.Channel{
		{GBID: camID, Name: "一", Manufacturer: "Dahua", Status: device.ChannelOff, Kind: device.KindChannel, PTZType: 1},
		{GBID: cam2, Name: "二", Status: device.ChannelOn, Kind: device.KindChannel},
	}); err != nil {
		t.Fatal(err)
	}
	s, _ := newService(t, store, client)
	s.CatalogEvent(ctx, devID, []manscdp.CatalogItem{
		{DeviceID: camID, Name: "一号", Event: manscdp.EventUpdate},
		{DeviceID: cam2, Event: manscdp.EventDel},
		{DeviceID: "34020000001310000003", Name: "三", Event: manscdp.EventAdd},
	})
	s.CatalogEvent(ctx, devID, []manscdp.CatalogItem{{DeviceID: "34020000001310000003", Event: manscdp.EventVLost}})
	chans, _ := store.Channels(ctx, d.ID)
	got := map[string]*device.Channel{}
	for _, c := range chans {
		got[c.GBID] = c
	}
	if c := got[camID]; c == nil || c.Name != "一号" || c.Manufacturer != "Dahua" || c.Status != device.ChannelOff || c.PTZType != 1 {
		t.Errorf("updated channel %+v", c)
	}
	if got[cam2] != nil {
		t.Errorf("deleted channel still there")
	}
	if c := got["34020000001310000003"]; c == nil || c.Name != "三" || c.Status != device.ChannelOff {
		t.Errorf("added channel %+v", c)
	}

	s.Alarm(ctx, devID, camID, &manscdp.Alarm{AlarmPriority: 2, AlarmMethod: 5, AlarmType: 2, AlarmTime: time.Unix(0, 0)})
	if len(store.events) != 1 || store.events[0].ChannelGBID != camID || store.events[0].AlarmType != "2" ||
		time.Since(store.events[0].Time) > time.Minute {
		t.Errorf("alarm stored as %+v (a 1970 alarm time takes the platform's)", store.events[0])
	}
}

// TestErrors maps the client's errors onto the API's.
func TestErrors(t *testing.T) {
	store, client := newMemStore(), newFakeClient()
	ctx := context.Background()
	d := &device.Device{Type: device.TypeGB28181, GBID: devID, Name: "x", Online: true}
	if err := store.CreateDevice(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	s, _ := newService(t, store, client)
	if _, err := s.Status(ctx, d.ID); !errors.Is(err, ErrOffline) {
		t.Fatalf("status of a device Initialize marked offline: %v", err)
	}
	_ = store.SetDeviceOnline(ctx, d.ID, true)
	for _, c := range []struct {
		err  error
		want error
	}{
		{sip.ErrTimeout, ErrTimeout},
		{sip.ErrNotRegistered, ErrOffline},
		{&sip.ResponseError{Code: 500}, ErrDeviceError},
		{nil, nil},
	} {
		client.err = c.err
		if _, err := s.Status(ctx, d.ID); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("client error %v: %v, want %v", c.err, err, c.want)
		}
	}
	client.err = nil
	rtsp := &device.Device{Type: device.TypeRTSP, Name: "cam"}
	_ = store.CreateDevice(ctx, rtsp, nil)
	if _, err := s.Status(ctx, rtsp.ID); !errors.Is(err, device.ErrInvalid) {
		t.Errorf("status of an RTSP device: %v", err)
	}
	for _, p := range []Patch{{Charset: ptr("latin1")}, {StreamTransport: ptr("quic")}, {Name: ptr(" ")}} {
		if _, err := s.Update(ctx, d.ID, p); !errors.Is(err, device.ErrInvalid) {
			t.Errorf("Update %+v: %v", p, err)
		}
	}
	if _, err := s.Update(ctx, d.ID, Patch{Charset: ptr("gbk")}); err != nil || client.Charset(devID) != manscdp.GB18030 {
		t.Errorf("charset GBK: %v, client charset %v", err, client.Charset(devID))
	}
	if _, err := s.Provision(ctx, NewDevice{GBID: devID}); !errors.Is(err, device.ErrConflict) {
		t.Errorf("provisioning a stored GB ID: %v", err)
	}
}

// TestControls: IFrame and Record reach a channel, Guard a device; an offline device is
// ErrOffline before anything is sent, a catalog node or an RTSP device ErrInvalid, and the
// client's errors are mapped as for the other requests.
func TestControls(t *testing.T) {
	store, client := newMemStore(), newFakeClient()
	ctx := context.Background()
	d := &device.Device{Type: device.TypeGB28181, GBID: devID, Name: "x"}
	group := "34020000002150000001"
	if err := store.CreateDevice(ctx, d, []*device.Channel{
		{GBID: camID, Name: "一", Kind: device.KindChannel},
		{GBID: group, Name: "组", Kind: device.KindBusinessGroup},
	}); err != nil {
		t.Fatal(err)
	}
	chans, _ := store.Channels(ctx, d.ID)
	cam, grp := chans[0], chans[1]
	s, _ := newService(t, store, client)

	calls := func() []string {
		client.mu.Lock()
		defer client.mu.Unlock()
		return slices.Clone(client.calls)
	}
	if err := s.IFrame(ctx, cam.ID); !errors.Is(err, ErrOffline) {
		t.Fatalf("IFrame of an offline device: %v", err)
	}
	if err := s.Guard(ctx, d.ID, true); !errors.Is(err, ErrOffline) {
		t.Fatalf("Guard of an offline device: %v", err)
	}
	if n := len(calls()); n != 0 {
		t.Fatalf("%d requests sent to an offline device", n)
	}
	_ = store.SetDeviceOnline(ctx, d.ID, true)
	for _, f := range []func() error{
		func() error { return s.IFrame(ctx, cam.ID) },
		func() error { return s.Record(ctx, cam.ID, true) },
		func() error { return s.Record(ctx, cam.ID, false) },
		func() error { return s.Guard(ctx, d.ID, true) },
		func() error { return s.Guard(ctx, d.ID, false) },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"IFrame " + devID + " " + camID, "Record " + devID + " " + camID + " true",
		"Record " + devID + " " + camID + " false", "Guard " + devID + " true", "Guard " + devID + " false"}
	if got := calls(); !slices.Equal(got, want) {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
	if err := s.Record(ctx, grp.ID, true); !errors.Is(err, device.ErrInvalid) {
		t.Errorf("Record of a business group: %v", err)
	}
	rtsp := &device.Device{Type: device.TypeRTSP, Name: "cam"}
	_ = store.CreateDevice(ctx, rtsp, nil)
	if err := s.Guard(ctx, rtsp.ID, true); !errors.Is(err, ErrNotGB) {
		t.Errorf("Guard of an RTSP device: %v", err)
	}
	for _, c := range []struct {
		err  error
		want error
	}{
		{sip.ErrTimeout, ErrTimeout},
		{sip.ErrNotRegistered, ErrOffline},
		{fmt.Errorf("MESSAGE: %w", sip.ErrNoConnection), ErrOffline},
		{&sip.ResponseError{Code: 488}, ErrDeviceError},
	} {
		client.mu.Lock()
		client.err = c.err
		client.mu.Unlock()
		if err := s.IFrame(ctx, cam.ID); !errors.Is(err, c.want) {
			t.Errorf("client error %v: %v, want %v", c.err, err, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
