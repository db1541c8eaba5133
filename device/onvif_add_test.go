package device

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif/onvifsim"
)

// probes counts the onboarding probes the simulator received.
func probes(sim *onvifsim.Server) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Op == "GetDeviceInformation" {
			n++
		}
	}
	return n
}

// TestONVIFCreateConcurrent adds one camera four times at once, under four spellings of its
// address: one device is made, the camera is probed once, and the others are told which device
// has it.
func TestONVIFCreateConcurrent(t *testing.T) {
	sim := newSim(t, nil)
	// A slow camera keeps the first onboarding busy while the others arrive.
	sim.Misbehave("GetDeviceInformation", onvifsim.Misbehaviour{Delay: 200 * time.Millisecond})
	store := newMemStore()
	s := newONVIFService(t, store, nil)

	addrs := []string{sim.Addr(), sim.URL(), "HTTP://" + sim.Addr() + "/", "admin:pw@" + sim.Addr()}
	type result struct {
		d   *Device
		err error
	}
	results := make([]result, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			d, _, err := s.Create(t.Context(), NewONVIF{Address: a, Username: "admin", Password: "pw"})
			results[i] = result{d, err}
		})
	}
	wg.Wait()

	var added *Device
	for _, r := range results {
		if r.err == nil {
			if added != nil {
				t.Fatalf("added twice: devices %d and %d", added.ID, r.d.ID)
			}
			added = r.d
		}
	}
	if added == nil {
		t.Fatalf("not added: %+v", results)
	}
	for _, r := range results {
		if r.err == nil {
			continue
		}
		ae, ok := errors.AsType[*AlreadyAddedError](r.err)
		if !ok || !errors.Is(r.err, ErrConflict) || ae.DeviceID != added.ID || ae.Address != sim.Addr() {
			t.Errorf("error %v, want already added as device %d", r.err, added.ID)
		}
	}
	if n := probes(sim); n != 1 {
		t.Errorf("the camera was probed %d times, want once", n)
	}
	if devs, _, _ := store.ListDevices(t.Context(), ListOptions{}); len(devs) != 1 {
		t.Errorf("%d devices stored", len(devs))
	}
}

// TestONVIFCreateWaits: an onboarding that waits for another of the same address goes ahead when
// that one fails, and gives up when its own request does.
func TestONVIFCreateWaits(t *testing.T) {
	sim := newSim(t, nil)
	store := newMemStore()
	s := newONVIFService(t, store, nil)

	// The first onboarding holds the address for a while and then fails (wrong password).
	sim.Misbehave("GetDeviceInformation", onvifsim.Misbehaviour{Delay: 300 * time.Millisecond, Times: 1})
	first := make(chan error, 1)
	go func() {
		_, _, err := s.Create(t.Context(), NewONVIF{Address: sim.Addr(), Username: "admin", Password: "wrong"})
		first <- err
	}()
	eventuallyTrue(t, "the first onboarding started", func() bool { return len(sim.Requests()) > 0 })

	// One that cannot wait that long gives up.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := s.Create(ctx, NewONVIF{Address: sim.Addr(), Username: "admin", Password: "pw"}); !errors.Is(err, ErrONVIFTimeout) {
		t.Errorf("impatient onboarding: %v", err)
	}
	// One that waits adds the camera once the first failed.
	d, _, err := s.Create(t.Context(), NewONVIF{Address: sim.URL(), Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatalf("second onboarding: %v", err)
	}
	if err := <-first; !errors.Is(err, ErrONVIFUnauthorized) {
		t.Errorf("first onboarding: %v", err)
	}
	if d.XAddr != sim.URL() {
		t.Errorf("device %+v", d)
	}
}

func eventuallyTrue(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestONVIFCreateStoreConflict: another nvr process sharing the database adds the camera while
// this one probes it; the store refuses the second device and the error names the first.
func TestONVIFCreateStoreConflict(t *testing.T) {
	sim := newSim(t, nil)
	store := newMemStore()
	s := newONVIFService(t, store, nil)
	other := &Device{Type: TypeONVIF, Name: "added elsewhere", XAddr: "http://" + sim.Addr() + "/onvif/device_service"}
	store.beforeCreate = func() {
		if err := store.CreateDevice(t.Context(), other, nil); err != nil {
			t.Error(err)
		}
	}
	_, _, err := s.Create(t.Context(), NewONVIF{Address: sim.Addr(), Username: "admin", Password: "pw"})
	if ae, ok := errors.AsType[*AlreadyAddedError](err); !ok || ae.DeviceID != other.ID || ae.DeviceName != "added elsewhere" {
		t.Fatalf("error %v, want already added as device %d", err, other.ID)
	}
	if devs, _, _ := store.ListDevices(t.Context(), ListOptions{}); len(devs) != 1 {
		t.Errorf("%d devices stored", len(devs))
	}
}

// TestONVIFUpdateAddressTaken: a device cannot move to the address of another.
func TestONVIFUpdateAddressTaken(t *testing.T) {
	a, b := newSim(t, nil), newSim(t, func(c *onvifsim.Config) { c.Vendor = onvifsim.VendorDahua })
	store := newMemStore()
	s := newONVIFService(t, store, nil)
	da, _, err := s.Create(t.Context(), NewONVIF{Address: a.Addr(), Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	db, _, err := s.Create(t.Context(), NewONVIF{Address: b.Addr(), Username: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	addr := a.URL()
	_, err = s.Update(t.Context(), db.ID, ONVIFPatch{Address: &addr})
	if ae, ok := errors.AsType[*AlreadyAddedError](err); !ok || ae.DeviceID != da.ID {
		t.Errorf("moving onto device %d: %v", da.ID, err)
	}
	// Its own address, written another way, is not taken.
	own := "http://" + b.Addr() + "/onvif/device_service"
	if _, err := s.Update(t.Context(), db.ID, ONVIFPatch{Address: &own}); err != nil {
		t.Errorf("own address: %v", err)
	}
}

// TestONVIFSyncMedia2 onboards a Profile T camera whose firmware did not list Media2 yet (only
// the H.264 sub stream is seen, through Media), then re-reads it after an upgrade: the H.265
// main stream is added with its codec and size, and the H.264 channel stays the same channel.
func TestONVIFSyncMedia2(t *testing.T) {
	sim := newSim(t, func(c *onvifsim.Config) { c.Media2 = true; c.Profiles = onvifsim.H265Profiles() })
	sim.Misbehave("GetServices", onvifsim.Misbehaviour{Status: http.StatusBadRequest,
		Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "Optional Action Not Implemented"}})
	store := newMemStore()
	media := &memMedia{}
	s := newONVIFService(t, store, func(s *ONVIFService) { s.Media = media })
	d, chans, err := s.Create(t.Context(), NewONVIF{Address: sim.Addr(), Username: "admin", Password: "pw", Name: "Gate"})
	if err != nil {
		t.Fatal(err)
	}
	if len(chans) != 1 || chans[0].ProfileToken != "Profile_2" || chans[0].Codec != "H264" || chans[0].Role != RoleMain {
		t.Fatalf("through Media: %+v", chans)
	}
	sub := chans[0]
	sub.Name = "Gate low"
	if err := store.UpdateChannel(t.Context(), sub); err != nil {
		t.Fatal(err)
	}

	sim.Behave("GetServices")
	res, err := s.Sync(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res != (ONVIFSyncResult{Added: 1, Updated: 1, Total: 2}) {
		t.Errorf("sync %+v", res)
	}
	got, _ := store.Channels(t.Context(), d.ID)
	if len(got) != 2 {
		t.Fatalf("%d channels: %+v", len(got), got)
	}
	i := slices.IndexFunc(got, func(c *Channel) bool { return c.ID == sub.ID })
	if i < 0 || got[i].ProfileToken != "Profile_2" || got[i].Role != RoleSub || got[i].Name != "Gate low" {
		t.Errorf("the H.264 channel: %+v", got)
	}
	main := got[1-i]
	if main.ProfileToken != "Profile_1" || main.Codec != "H265" || main.Width != 2560 || main.Height != 1440 || main.Role != RoleMain ||
		main.URL != "rtsp://admin:pw@192.0.2.1/Profile_1" || main.Name != "Gate main" || media.set[main.ID] != main.URL {
		t.Errorf("the H.265 channel %+v", main)
	}
	// Nothing changes on a second read.
	if res, err := s.Sync(t.Context(), d.ID); err != nil || res != (ONVIFSyncResult{Total: 2}) {
		t.Errorf("second sync %+v, %v", res, err)
	}
}

func TestMatchChannels(t *testing.T) {
	old := []*Channel{
		{ID: 1, ProfileToken: "Profile_1", URL: "rtsp://u:p@cam/101"},
		{ID: 2, ProfileToken: "Profile_2", URL: "rtsp://u:p@cam/102"},
		{ID: 3, ProfileToken: "Profile_3", URL: "rtsp://u:p@cam/103"},
	}
	want := []*Channel{
		{ProfileToken: "Profile_1", URL: "rtsp://u:p@cam/101"},       // same token
		{ProfileToken: "media2_102", URL: "rtsp://u:new@cam/102"},    // another token, the same stream
		{ProfileToken: "media2_104", URL: "rtsp://u:p@cam/104"},      // new
		{ProfileToken: "Profile_2", URL: "rtsp://u:p@cam/elsewhere"}, // the token wins over the URI
	}
	match, gone := matchChannels(old, want)
	ids := func(cs []*Channel) []int64 {
		var out []int64
		for _, c := range cs {
			if c == nil {
				out = append(out, 0)
			} else {
				out = append(out, c.ID)
			}
		}
		return out
	}
	if got := ids(match); !slices.Equal(got, []int64{1, 0, 0, 2}) {
		t.Errorf("match %v", got)
	}
	if got := ids(gone); !slices.Equal(got, []int64{3}) {
		t.Errorf("gone %v", got)
	}

	// Without the token, the stream URI finds the channel.
	match, gone = matchChannels(old, want[1:3])
	if got := ids(match); !slices.Equal(got, []int64{2, 0}) {
		t.Errorf("match by URI %v", got)
	}
	if got := ids(gone); !slices.Equal(got, []int64{1, 3}) {
		t.Errorf("gone %v", got)
	}
}
