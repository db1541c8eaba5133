package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif"
	"github.com/nvr/nvr/device/onvif/onvifsim"
)

// memStore is an in-memory ONVIFStore. Like the database, it keeps ONVIF device addresses
// (ONVIFAddressKey) unique.
type memStore struct {
	mu       sync.Mutex
	devs     map[int64]*Device
	chans    map[int64]*Channel
	next     int64
	statuses []string // SetChannelsStatus calls, in order
	// beforeCreate, when set, runs at the start of CreateONVIFDevice, outside the lock: another
	// nvr process can add a device there.
	beforeCreate func()
}

func newMemStore() *memStore {
	return &memStore{devs: map[int64]*Device{}, chans: map[int64]*Channel{}}
}

func (m *memStore) CreateONVIFDevice(ctx context.Context, d *Device, chans []*Channel) error {
	if m.beforeCreate != nil {
		m.beforeCreate()
	}
	m.mu.Lock()
	taken := m.addressTaken(d)
	m.mu.Unlock()
	if taken {
		return fmt.Errorf("mem: %w", ErrConflict)
	}
	return m.CreateDevice(ctx, d, chans)
}

// addressTaken reports whether another ONVIF device has d's address.
func (m *memStore) addressTaken(d *Device) bool {
	for _, o := range m.devs {
		if o.ID != d.ID && o.Type == TypeONVIF && ONVIFAddressKey(o.XAddr) == ONVIFAddressKey(d.XAddr) {
			return true
		}
	}
	return false
}

func (m *memStore) CreateDevice(_ context.Context, d *Device, chans []*Channel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	d.ID = m.next
	cp := *d
	m.devs[d.ID] = &cp
	for _, c := range chans {
		m.next++
		c.ID, c.DeviceID = m.next, d.ID
		cc := *c
		m.chans[c.ID] = &cc
	}
	return nil
}

func (m *memStore) Device(_ context.Context, id int64) (*Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.devs[id]
	if d == nil {
		return nil, ErrNotFound
	}
	cp := *d
	return &cp, nil
}

func (m *memStore) ListDevices(_ context.Context, opts ListOptions) ([]*Device, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Device
	for _, d := range m.devs {
		if opts.Type == "" || d.Type == opts.Type {
			cp := *d
			out = append(out, &cp)
		}
	}
	slices.SortFunc(out, func(a, b *Device) int { return int(a.ID - b.ID) })
	return out, int64(len(out)), nil
}

func (m *memStore) Channels(_ context.Context, deviceID int64) ([]*Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Channel
	for _, c := range m.chans {
		if deviceID == 0 || c.DeviceID == deviceID {
			cp := *c
			out = append(out, &cp)
		}
	}
	slices.SortFunc(out, func(a, b *Channel) int { return int(a.ID - b.ID) })
	return out, nil
}

func (m *memStore) Channel(_ context.Context, id int64) (*Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chans[id]
	if c == nil {
		return nil, ErrNotFound
	}
	cp := *c
	return &cp, nil
}

func (m *memStore) UpdateChannel(_ context.Context, c *Channel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.chans[c.ID] == nil {
		return ErrNotFound
	}
	cp := *c
	m.chans[c.ID] = &cp
	return nil
}

func (m *memStore) SyncONVIFDevice(_ context.Context, d *Device, add, update []*Channel, remove []int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.devs[d.ID] == nil {
		return ErrNotFound
	}
	if m.addressTaken(d) {
		return fmt.Errorf("mem: %w", ErrConflict)
	}
	cp := *d
	m.devs[d.ID] = &cp
	for _, id := range remove {
		delete(m.chans, id)
	}
	for _, c := range update {
		cc := *c
		m.chans[c.ID] = &cc
	}
	for _, c := range add {
		m.next++
		c.ID, c.DeviceID = m.next, d.ID
		cc := *c
		m.chans[c.ID] = &cc
	}
	return nil
}

func (m *memStore) SetDeviceOnline(_ context.Context, id int64, online bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.devs[id].Online = online
	return nil
}

func (m *memStore) TouchKeepalive(_ context.Context, id int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.devs[id].Online, m.devs[id].LastKeepalive = true, at
	return nil
}

func (m *memStore) SetChannelsStatus(_ context.Context, deviceID int64, _ []string, status string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses = append(m.statuses, status)
	for _, c := range m.chans {
		if c.DeviceID == deviceID {
			c.Status = status
		}
	}
	return nil
}

func (m *memStore) ClaimONVIFAddresses(context.Context) (int, []int64, error) { return 0, nil, nil }

func (m *memStore) SetClockOffset(_ context.Context, id int64, offset time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.devs[id].ClockOffset = offset
	return nil
}

// memMedia records the channels given to the media hub.
type memMedia struct {
	mu      sync.Mutex
	set     map[int64]string // channel ID → URL
	removed []int64
}

func (m *memMedia) SetChannel(ch *Channel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		m.set = map[int64]string{}
	}
	m.set[ch.ID] = ch.URL
}

func (m *memMedia) RemoveChannel(ch *Channel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.set, ch.ID)
	m.removed = append(m.removed, ch.ID)
}

func newONVIFService(t *testing.T, store ONVIFStore, mutate func(*ONVIFService)) *ONVIFService {
	t.Helper()
	s := &ONVIFService{Store: store, Media: &memMedia{}, Timeout: time.Second, PollInterval: -1,
		Logger: slog.New(slog.DiscardHandler)}
	if mutate != nil {
		mutate(s)
	}
	s.Initialize(t.Context())
	t.Cleanup(s.Close)
	return s
}

func newSim(t *testing.T, mutate func(*onvifsim.Config)) *onvifsim.Server {
	t.Helper()
	cfg := onvifsim.Config{Username: "admin", Password: "pw", RTSPURL: "rtsp://192.0.2.1/{token}"}
	if mutate != nil {
		mutate(&cfg)
	}
	sim, err := onvifsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func TestONVIFCreate(t *testing.T) {
	sim := newSim(t, func(c *onvifsim.Config) {
		c.Profiles = append(onvifsim.DefaultProfiles(),
			onvifsim.Profile{Encoding: "H264", Width: 320, Height: 240, Name: "mobile"},
			onvifsim.Profile{Encoding: "H264", Width: 160, Height: 120, StreamURI: " "})
	})
	store := newMemStore()
	media := &memMedia{}
	s := newONVIFService(t, store, func(s *ONVIFService) { s.Media = media })

	d, chans, err := s.Create(t.Context(), NewONVIF{Address: "admin:pw@" + sim.Addr(), AlwaysOn: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "HIKVISION DS-2DE4425IW-DE" || d.Username != "admin" || d.Password != "pw" || d.XAddr != sim.URL() {
		t.Errorf("device %+v", d)
	}
	var names []string
	for _, ch := range chans {
		names = append(names, ch.Name)
		if !ch.AlwaysOn || ch.Status != ChannelOn || !strings.HasPrefix(ch.URL, "rtsp://admin:pw@192.0.2.1/") || media.set[ch.ID] != ch.URL {
			t.Errorf("channel %+v (media %q)", ch, media.set[ch.ID])
		}
	}
	// The fourth profile's stream URI is blank: no channel.
	want := []string{d.Name + " main", d.Name + " sub", d.Name + " mobile"}
	if !slices.Equal(names, want) {
		t.Errorf("channels %q, want %q", names, want)
	}

	_, _, err = s.Create(t.Context(), NewONVIF{Address: "http://" + sim.Addr() + "/onvif/device_service", Username: "admin", Password: "pw"})
	if ae, ok := errors.AsType[*AlreadyAddedError](err); !ok || !errors.Is(err, ErrConflict) || ae.DeviceID != d.ID || ae.Address != sim.Addr() {
		t.Errorf("adding it twice: %v", err)
	}
	if _, _, err := s.Create(t.Context(), NewONVIF{Address: ""}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty address: %v", err)
	}
}

func TestONVIFCreateErrors(t *testing.T) {
	sim := newSim(t, nil)
	cases := []struct {
		name string
		op   string
		m    onvifsim.Misbehaviour
		pass string
		want error
	}{
		{name: "wrong password", pass: "nope", want: ErrONVIFUnauthorized},
		{name: "fault", op: "GetProfiles", m: onvifsim.Misbehaviour{Fault: &onvifsim.Fault{Code: "Receiver", Reason: "boom"}}, want: ErrONVIFDevice},
		{name: "HTML", op: onvifsim.AnyOp, m: onvifsim.Misbehaviour{Status: 404, Body: "<html></html>", ContentType: "text/html"}, want: ErrNotONVIF},
		{name: "timeout", op: "GetDeviceInformation", m: onvifsim.Misbehaviour{Delay: 3 * time.Second}, want: ErrONVIFTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newMemStore()
			s := newONVIFService(t, store, nil)
			if c.op != "" {
				sim.Misbehave(c.op, c.m)
				defer sim.Behave(c.op)
			}
			_, _, err := s.Create(t.Context(), NewONVIF{Address: sim.Addr(), Username: "admin", Password: cmpOr(c.pass, "pw")})
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if len(store.devs) != 0 || len(store.chans) != 0 {
				t.Errorf("%d devices, %d channels stored", len(store.devs), len(store.chans))
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestONVIFPoll(t *testing.T) {
	sim := newSim(t, nil)
	store := newMemStore()
	s := newONVIFService(t, store, func(s *ONVIFService) { s.PollInterval = 50 * time.Millisecond; s.PollMisses = 2 })
	d, chans, err := s.Create(t.Context(), NewONVIF{Address: sim.Addr(), Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	state := func() (bool, string) {
		dd, _ := store.Device(t.Context(), d.ID)
		ch, _ := store.Channel(t.Context(), chans[0].ID)
		return dd.Online, ch.Status
	}
	sim.Misbehave("GetSystemDateAndTime", onvifsim.Misbehaviour{Status: 500, Body: "x", ContentType: "text/plain"})
	wait("offline", func() bool { on, st := state(); return !on && st == ChannelOff })
	sim.Behave("GetSystemDateAndTime")
	wait("online", func() bool { on, st := state(); return on && st == ChannelOn })
	store.mu.Lock()
	statuses := slices.Clone(store.statuses)
	store.mu.Unlock()
	if !slices.Equal(statuses, []string{ChannelOff, ChannelOn}) {
		t.Errorf("channel status written %q, want once per change", statuses)
	}

	// A clock that jumps is measured again and stored.
	sim.SetClockOffset(time.Hour)
	wait("the new offset", func() bool {
		dd, _ := store.Device(t.Context(), d.ID)
		return (dd.ClockOffset - time.Hour).Abs() < 2*time.Second
	})
}

func TestONVIFSnapshotCache(t *testing.T) {
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3}
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(jpeg)
	}))
	t.Cleanup(srv.Close)

	store := newMemStore()
	d := &Device{Type: TypeONVIF, Name: "cam", XAddr: "http://192.0.2.1/onvif/device_service"}
	ch := &Channel{Name: "cam main", ProfileToken: "p1", SnapshotURI: srv.URL + "/snap.jpg"}
	plain := &Channel{Name: "cam sub", ProfileToken: "p2"}
	if err := store.CreateDevice(t.Context(), d, []*Channel{ch, plain}); err != nil {
		t.Fatal(err)
	}
	s := newONVIFService(t, store, func(s *ONVIFService) { s.SnapshotTTL = 200 * time.Millisecond })

	// Requests that arrive while a fetch runs share it.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			b, err := s.Snapshot(t.Context(), ch.ID)
			if err == nil && string(b) != string(jpeg) {
				err = fmt.Errorf("got %x", b)
			}
			errs <- err
		})
	}
	for hits.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches for 8 concurrent requests, want 1", n)
	}
	// Served from memory until the TTL passes.
	if _, err := s.Snapshot(t.Context(), ch.ID); err != nil || hits.Load() != 1 {
		t.Errorf("cached snapshot: %v, %d fetches", err, hits.Load())
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := s.Snapshot(t.Context(), ch.ID); err != nil || hits.Load() != 2 {
		t.Errorf("after the TTL: %v, %d fetches, want 2", err, hits.Load())
	}

	if _, err := s.Snapshot(t.Context(), plain.ID); !errors.Is(err, ErrONVIFUnsupported) {
		t.Errorf("channel without a snapshot URI: %v", err)
	}
	if _, err := s.Snapshot(t.Context(), 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestONVIFPTZ(t *testing.T) {
	sim := newSim(t, nil)
	s := newONVIFService(t, newMemStore(), nil)
	_, chans, err := s.Create(t.Context(), NewONVIF{Address: sim.Addr(), Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	id := chans[0].ID
	speed := func(n int) *int { return &n }
	cases := []struct {
		req             ONVIFPTZ
		pan, tilt, zoom float64
	}{
		{ONVIFPTZ{Action: "right", Speed: speed(255)}, 1, 0, 0},
		{ONVIFPTZ{Action: "down_left", Speed: speed(51)}, -0.2, -0.2, 0},
		{ONVIFPTZ{Action: "ZOOM_IN", Speed: speed(255)}, 0, 0, 1},
	}
	for _, c := range cases {
		if err := s.PTZ(t.Context(), id, c.req); err != nil {
			t.Fatalf("%+v: %v", c.req, err)
		}
		calls := sim.PTZCalls()
		last := calls[len(calls)-1]
		if last.Op != "ContinuousMove" || last.Pan != c.pan || last.Tilt != c.tilt || last.Zoom != c.zoom {
			t.Errorf("%s: %+v", c.req.Action, last)
		}
	}
	for _, bad := range []ONVIFPTZ{{Action: "spin"}, {Action: "left", Speed: speed(300)}, {Action: "preset_call"}} {
		if err := s.PTZ(t.Context(), id, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.PTZ(t.Context(), id, ONVIFPTZ{Action: "iris_open"}); !errors.Is(err, ErrONVIFUnsupported) {
		t.Errorf("iris: %v", err)
	}
}

func TestPresetIDs(t *testing.T) {
	ids := func(ps []onvif.Preset) []int {
		var out []int
		for _, p := range presetIDs(ps) {
			out = append(out, p.ID)
		}
		return out
	}
	if got := ids([]onvif.Preset{{Token: "3"}, {Token: "1"}, {Token: "12"}}); !slices.Equal(got, []int{3, 1, 12}) {
		t.Errorf("numeric tokens: %v", got)
	}
	if got := ids([]onvif.Preset{{Token: "3"}, {Token: "Preset_A"}, {Token: "0"}}); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("other tokens: %v", got)
	}
}

func TestAddressKey(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"192.0.2.1", "http://192.0.2.1:80/onvif/device_service"},
		{"CAM.local:8080", "http://cam.local:8080/onvif/Media"},
		{"https://192.0.2.1/x", "192.0.2.1:443"},
		{"admin:pw@[2001:db8::1]", "HTTP://[2001:DB8::1]:80/onvif/device_service"},
	} {
		if ONVIFAddressKey(c.a) != ONVIFAddressKey(c.b) || ONVIFAddressKey(c.a) == "" {
			t.Errorf("%q (%s) and %q (%s) differ", c.a, ONVIFAddressKey(c.a), c.b, ONVIFAddressKey(c.b))
		}
	}
	if ONVIFAddressKey("192.0.2.1:80") == ONVIFAddressKey("192.0.2.1:8080") {
		t.Error("ports ignored")
	}
	if k := ONVIFAddressKey("192.0.2.1"); k != "192.0.2.1:80" {
		t.Errorf("key %q", k)
	}
	if k := ONVIFAddressKey("ftp://x"); k != "" {
		t.Errorf("key of a bad address %q", k)
	}
}

func TestONVIFErrorMapping(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{fmt.Errorf("op: %w", onvif.ErrUnauthorized), ErrONVIFUnauthorized},
		{&onvif.FaultError{Code: "Sender", Subcodes: []string{"NotAuthorized"}}, ErrONVIFUnauthorized},
		{&onvif.FaultError{Code: "Receiver", HTTPStatus: 500}, ErrONVIFDevice},
		{fmt.Errorf("op: %w", onvif.ErrBadResponse), ErrONVIFDevice},
		{fmt.Errorf("op: %w", onvif.ErrNotONVIF), ErrNotONVIF},
		{fmt.Errorf("op: %w: x", onvif.ErrTimeout), ErrONVIFTimeout},
		{fmt.Errorf("op: %w", onvif.ErrNoService), ErrONVIFUnsupported},
		{fmt.Errorf("%w: no preset", ErrInvalid), ErrInvalid},
	}
	for _, c := range cases {
		if got := onvifError(c.err); !errors.Is(got, c.want) {
			t.Errorf("%v → %v, want %v", c.err, got, c.want)
		}
	}
	if err := onvifError(context.Canceled); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}
