package storage

import (
	"errors"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
)

// newONVIF returns an ONVIF camera with a main and a sub profile.
func newONVIF() (*device.Device, []*device.Channel) {
	d := &device.Device{Type: device.TypeONVIF, Name: "door", XAddr: "http://192.0.2.10/onvif/device_service",
		Username: "admin", Password: "pw", Manufacturer: "HIKVISION", Model: "DS-2CD", Firmware: "V5", Serial: "SN1",
		ClockOffset: 10*time.Minute + 250*time.Millisecond, Online: true}
	chans := []*device.Channel{
		{Name: "door main", URL: "rtsp://admin:pw@192.0.2.10/1", Status: device.ChannelOn, ProfileToken: "Profile_1",
			Role: device.RoleMain, Codec: "H264", Width: 1920, Height: 1080, FPS: 25, SnapshotURI: "http://192.0.2.10/snap", PTZ: true},
		{Name: "door sub", URL: "rtsp://admin:pw@192.0.2.10/2", Status: device.ChannelOn, ProfileToken: "Profile_2",
			Role: device.RoleSub, Codec: "H264", Width: 640, Height: 360, FPS: 15},
	}
	return d, chans
}

func TestONVIFFieldsRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	d, chans := newONVIF()
	if err := db.CreateDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	got, err := db.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.XAddr != d.XAddr || got.Username != d.Username || got.Password != d.Password || got.Serial != d.Serial ||
		got.ClockOffset != 10*time.Minute+250*time.Millisecond || got.Manufacturer != d.Manufacturer || !got.Online {
		t.Errorf("device %+v, want %+v", got, d)
	}
	ch, err := db.Channel(ctx, chans[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *chans[0]
	if ch.ProfileToken != want.ProfileToken || ch.Role != want.Role || ch.Codec != want.Codec || ch.Width != want.Width ||
		ch.Height != want.Height || ch.FPS != want.FPS || ch.SnapshotURI != want.SnapshotURI || !ch.PTZ || ch.Status != device.ChannelOn {
		t.Errorf("channel %+v, want %+v", ch, want)
	}

	// UpdateDevice (a PATCH of the name) leaves the ONVIF columns alone.
	got.Name = "gate"
	if err := db.UpdateDevice(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Device(ctx, d.ID); again.XAddr != d.XAddr || again.ClockOffset != d.ClockOffset || again.Name != "gate" {
		t.Errorf("after UpdateDevice: %+v", again)
	}

	if err := db.SetClockOffset(ctx, d.ID, -3*time.Second); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Device(ctx, d.ID); again.ClockOffset != -3*time.Second || !again.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("after SetClockOffset: offset %s, updated %s (was %s)", again.ClockOffset, again.UpdatedAt, got.UpdatedAt)
	}
	if err := db.SetClockOffset(ctx, 999, 0); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("SetClockOffset of an unknown device: %v", err)
	}

	// A profile token is unique within a device.
	dup := &device.Channel{Name: "x", ProfileToken: "Profile_1"}
	if err := db.SyncONVIFDevice(ctx, got, []*device.Channel{dup}, nil, nil); !errors.Is(err, device.ErrConflict) {
		t.Errorf("adding a taken profile token: %v", err)
	}
	if cs, _ := db.Channels(ctx, d.ID); len(cs) != 2 {
		t.Errorf("%d channels after a failed sync, want 2", len(cs))
	}
}

func TestSyncONVIFDevice(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	d, chans := newONVIF()
	if err := db.CreateDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	main, sub := chans[0], chans[1]
	main.Name, main.AlwaysOn = "renamed by the user", true
	if err := db.UpdateChannel(ctx, main); err != nil {
		t.Fatal(err)
	}

	// The camera now streams H.265 on its main profile, has lost the sub and gained a third,
	// and its firmware and password changed.
	d.Firmware, d.Password, d.ClockOffset = "V6", "new", time.Second
	upd := *main
	upd.Name, upd.AlwaysOn = "name from the probe", false // not stored: the user's
	upd.Codec, upd.URL, upd.PTZ = "H265", "rtsp://admin:new@192.0.2.10/1", false
	third := &device.Channel{Name: "door third", URL: "rtsp://admin:new@192.0.2.10/3", Status: device.ChannelOn,
		ProfileToken: "Profile_3", Role: device.RoleOther, Codec: "JPEG", Width: 320, Height: 240}
	if err := db.SyncONVIFDevice(ctx, d, []*device.Channel{third}, []*device.Channel{&upd}, []int64{sub.ID}); err != nil {
		t.Fatal(err)
	}
	if third.ID == 0 || third.DeviceID != d.ID || third.Kind != device.KindChannel || third.CreatedAt.IsZero() {
		t.Errorf("added channel not filled in: %+v", third)
	}
	got, err := db.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Firmware != "V6" || got.Password != "new" || got.ClockOffset != time.Second {
		t.Errorf("device after sync: %+v", got)
	}
	cs, err := db.Channels(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != main.ID || cs[1].ID != third.ID {
		t.Fatalf("channels after sync: %+v", cs)
	}
	m := cs[0]
	if m.Name != "renamed by the user" || !m.AlwaysOn || m.Codec != "H265" || m.URL != upd.URL || m.PTZ {
		t.Errorf("updated channel %+v", m)
	}
	if _, err := db.Channel(ctx, sub.ID); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("removed channel: %v", err)
	}

	// A device that is gone.
	gone := *d
	gone.ID = 999
	if err := db.SyncONVIFDevice(ctx, &gone, nil, nil, nil); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("sync of an unknown device: %v", err)
	}
}
