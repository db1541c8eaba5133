package storage

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
)

func TestUsers(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	if n, err := db.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on empty database = %d, %v", n, err)
	}
	u := &device.User{Username: "admin", PasswordHash: "$2a$10$hash"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Errorf("CreateUser did not fill ID and CreatedAt: %+v", u)
	}

	got, err := db.UserByName(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.Username != u.Username || got.PasswordHash != u.PasswordHash || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("UserByName = %+v, want %+v", got, u)
	}

	err = db.CreateUser(ctx, &device.User{Username: "admin", PasswordHash: "x"})
	if !errors.Is(err, device.ErrConflict) {
		t.Errorf("duplicate CreateUser error %v, want ErrConflict", err)
	}
	if _, err := db.UserByName(ctx, "nobody"); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("UserByName(nobody) error %v, want ErrNotFound", err)
	}
	// Usernames compare exactly; folding case is the web layer's decision, not the database's.
	if _, err := db.UserByName(ctx, "Admin"); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("UserByName(Admin) error %v, want ErrNotFound", err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v, want 1", n, err)
	}
}

func TestSettings(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	if v, ok, err := db.Setting(ctx, "jwt_secret"); err != nil || ok || v != "" {
		t.Fatalf("Setting of a missing key = %q, %v, %v", v, ok, err)
	}
	for _, want := range []string{"first", "second", ""} {
		if err := db.SetSetting(ctx, "jwt_secret", want); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := db.Setting(ctx, "jwt_secret"); err != nil || !ok || v != want {
			t.Errorf("Setting = %q, %v, %v, want %q", v, ok, err, want)
		}
	}
}

// newCamera returns an RTSP device with n channels, as the web layer would build it.
func newCamera(name string, n int) (*device.Device, []*device.Channel) {
	d := &device.Device{Type: device.TypeRTSP, Name: name, URL: "rtsp://user:pass@10.0.0.1/"}
	var chans []*device.Channel
	for i := range n {
		chans = append(chans, &device.Channel{Name: fmt.Sprintf("%s ch%d", name, i+1), URL: fmt.Sprintf("rtsp://user:pass@10.0.0.1/ch%d", i+1)})
	}
	return d, chans
}

// sameDevice compares every field, times by instant (a stored time comes back in UTC).
func sameDevice(a, b *device.Device) bool {
	x, y := *a, *b
	return sameTimes(
		[]*time.Time{&x.CreatedAt, &x.UpdatedAt, &x.RegisteredAt, &x.LastKeepalive, &x.ExpiresAt, &x.PositionAt},
		[]*time.Time{&y.CreatedAt, &y.UpdatedAt, &y.RegisteredAt, &y.LastKeepalive, &y.ExpiresAt, &y.PositionAt},
	) && x == y
}

// sameChannel compares every field, times by instant.
func sameChannel(a, b *device.Channel) bool {
	x, y := *a, *b
	return sameTimes([]*time.Time{&x.CreatedAt, &x.UpdatedAt}, []*time.Time{&y.CreatedAt, &y.UpdatedAt}) && x == y
}

// sameTimes reports whether the times pairwise denote the same instant, and zeroes them all so
// that the structs holding them can then be compared with ==.
func sameTimes(a, b []*time.Time) bool {
	same := true
	for i := range a {
		same = same && a[i].Equal(*b[i])
		*a[i], *b[i] = time.Time{}, time.Time{}
	}
	return same
}

func TestCreateDevice(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	d, chans := newCamera("gate", 2)
	chans[1].AlwaysOn = true
	if err := db.CreateDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 || d.CreatedAt.IsZero() || !d.UpdatedAt.Equal(d.CreatedAt) {
		t.Errorf("device not filled in: %+v", d)
	}
	for _, c := range chans {
		if c.ID == 0 || c.DeviceID != d.ID || c.CreatedAt.IsZero() {
			t.Errorf("channel not filled in: %+v", c)
		}
	}
	if d.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", d.CreatedAt.Location())
	}

	got, err := db.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameDevice(got, d) {
		t.Errorf("Device = %+v, want %+v", got, d)
	}
	gotChans, err := db.Channels(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotChans) != 2 || !sameChannel(gotChans[0], chans[0]) || !sameChannel(gotChans[1], chans[1]) {
		t.Errorf("Channels = %+v, want %+v", gotChans, chans)
	}
	c, err := db.Channel(ctx, chans[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameChannel(c, chans[1]) {
		t.Errorf("Channel = %+v, want %+v", c, chans[1])
	}

	// A device without channels is allowed (a GB28181 device before its catalog arrives).
	bare := &device.Device{Type: device.TypeGB28181, Name: "nvr"}
	if err := db.CreateDevice(ctx, bare, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCreateDeviceIsAtomic(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	d, chans := newCamera("cam", 1)
	if err := db.CreateDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	// Two channels with the ID of an existing one: the channel insert fails after the device
	// insert succeeded, and the device must go with it.
	d2, chans2 := newCamera("dup", 2)
	chans2[0].ID, chans2[1].ID = chans[0].ID, chans[0].ID
	err := db.CreateDevice(ctx, d2, chans2)
	if !errors.Is(err, device.ErrConflict) {
		t.Fatalf("error %v, want ErrConflict", err)
	}
	if d2.ID != 0 {
		t.Errorf("failed CreateDevice set ID %d", d2.ID)
	}
	if _, total, err := db.ListDevices(ctx, device.ListOptions{}); err != nil || total != 1 {
		t.Errorf("ListDevices total = %d, %v, want 1", total, err)
	}
}

func TestListDevices(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	types := []device.Type{device.TypeRTSP, device.TypeGB28181, device.TypeRTSP, device.TypeONVIF, device.TypeRTSP}
	var ids []int64
	for i, typ := range types {
		d := &device.Device{Type: typ, Name: fmt.Sprintf("d%d", i)}
		if err := db.CreateDevice(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}

	tests := []struct {
		name  string
		opts  device.ListOptions
		want  []int64
		total int64
	}{
		{"all", device.ListOptions{}, ids, 5},
		{"first page", device.ListOptions{Limit: 2}, ids[:2], 5},
		{"second page", device.ListOptions{Offset: 2, Limit: 2}, ids[2:4], 5},
		{"offset only", device.ListOptions{Offset: 3}, ids[3:], 5},
		{"past the end", device.ListOptions{Offset: 10, Limit: 2}, nil, 5},
		{"by type", device.ListOptions{Type: device.TypeRTSP}, []int64{ids[0], ids[2], ids[4]}, 3},
		{"by type paged", device.ListOptions{Type: device.TypeRTSP, Offset: 1, Limit: 1}, []int64{ids[2]}, 3},
		{"no match", device.ListOptions{Type: "sip"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, total, err := db.ListDevices(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, d := range list {
				got = append(got, d.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || total != tt.total {
				t.Errorf("got %v total %d, want %v total %d", got, total, tt.want, tt.total)
			}
			if list == nil {
				t.Error("nil slice; want empty so that JSON shows []")
			}
		})
	}

	if _, _, err := db.ListDevices(ctx, device.ListOptions{Offset: -1}); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestUpdateDevice(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	d, _ := newCamera("old", 0)
	if err := db.CreateDevice(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	created := d.CreatedAt
	d.Name, d.URL, d.Type = "new", "rtsp://10.0.0.2/", device.TypeONVIF
	d.CreatedAt = time.Time{} // must be ignored
	if err := db.UpdateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := db.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "new" || got.URL != "rtsp://10.0.0.2/" || got.Type != device.TypeONVIF {
		t.Errorf("Device after update = %+v", got)
	}
	if !got.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt changed from %v to %v", created, got.CreatedAt)
	}
	if got.UpdatedAt.Before(created) || !got.UpdatedAt.Equal(d.UpdatedAt) {
		t.Errorf("UpdatedAt %v, want %v (>= %v)", got.UpdatedAt, d.UpdatedAt, created)
	}

	err = db.UpdateDevice(ctx, &device.Device{ID: d.ID + 100, Name: "x"})
	if !errors.Is(err, device.ErrNotFound) {
		t.Errorf("UpdateDevice of a missing device: %v, want ErrNotFound", err)
	}
}

func TestUpdateChannel(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	d, chans := newCamera("cam", 1)
	if err := db.CreateDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	c := chans[0]
	c.Name, c.URL, c.AlwaysOn = "renamed", "rtsp://10.0.0.3/", true
	c.DeviceID = d.ID + 100 // moving a channel is not an update; must be ignored
	if err := db.UpdateChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.Channel(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "renamed" || got.URL != "rtsp://10.0.0.3/" || !got.AlwaysOn || got.DeviceID != d.ID {
		t.Errorf("Channel after update = %+v", got)
	}
	if !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Errorf("UpdatedAt %v, want %v", got.UpdatedAt, c.UpdatedAt)
	}

	// false must be written too, not skipped as a zero value.
	c.AlwaysOn = false
	if err := db.UpdateChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Channel(ctx, c.ID); got.AlwaysOn {
		t.Error("AlwaysOn stayed true")
	}

	if err := db.UpdateChannel(ctx, &device.Channel{ID: c.ID + 100}); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("UpdateChannel of a missing channel: %v, want ErrNotFound", err)
	}
}

func TestDeleteDeviceCascades(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	gone, goneChans := newCamera("gone", 2)
	kept, keptChans := newCamera("kept", 1)
	for _, x := range []struct {
		d  *device.Device
		cs []*device.Channel
	}{{gone, goneChans}, {kept, keptChans}} {
		if err := db.CreateDevice(ctx, x.d, x.cs); err != nil {
			t.Fatal(err)
		}
	}

	if err := db.DeleteDevice(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Device(ctx, gone.ID); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("Device after delete: %v, want ErrNotFound", err)
	}
	for _, c := range goneChans {
		if _, err := db.Channel(ctx, c.ID); !errors.Is(err, device.ErrNotFound) {
			t.Errorf("Channel %d after deleting its device: %v, want ErrNotFound", c.ID, err)
		}
	}
	if cs, err := db.Channels(ctx, gone.ID); err != nil || len(cs) != 0 {
		t.Errorf("Channels of the deleted device = %v, %v", cs, err)
	}
	all, err := db.Channels(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != keptChans[0].ID {
		t.Errorf("Channels(0) = %+v, want only the kept device's channel", all)
	}

	if err := db.DeleteDevice(ctx, gone.ID); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("second DeleteDevice: %v, want ErrNotFound", err)
	}
}

func TestNotFound(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	if _, err := db.Device(ctx, 42); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("Device: %v", err)
	}
	if _, err := db.Channel(ctx, 42); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("Channel: %v", err)
	}
	if err := db.DeleteDevice(ctx, 42); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("DeleteDevice: %v", err)
	}
}

// TestConcurrentWriters checks that the busy timeout and immediate transactions let several
// goroutines write at once without SQLITE_BUSY, as the API and the recorder will.
func TestConcurrentWriters(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	const writers, each = 8, 10

	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				d, chans := newCamera(fmt.Sprintf("w%d-%d", w, i), 2)
				if err := db.CreateDevice(ctx, d, chans); err != nil {
					errs <- err
					return
				}
				if err := db.SetSetting(ctx, "last", d.Name); err != nil {
					errs <- err
					return
				}
				if _, _, err := db.ListDevices(ctx, device.ListOptions{Limit: 5}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, total, err := db.ListDevices(ctx, device.ListOptions{}); err != nil || total != writers*each {
		t.Errorf("total %d, %v, want %d", total, err, writers*each)
	}
}
