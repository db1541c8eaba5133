package storage

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/migrations"
)

// TestMigration0002KeepsRows builds a database the way a released 0001 binary left it, with
// rows in every table, and checks that opening it with this binary migrates it without losing
// or breaking any of them.
func TestMigration0002KeepsRows(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, defaultFileName)

	init, err := migrations.FS.ReadFile("0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite3", sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, old, mapFS(map[string]string{"0001_init.sql": string(init)}), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, q := range []string{
		"INSERT INTO users (username, password_hash, created_at) VALUES ('admin', 'h', ?)",
		"INSERT INTO devices (type, name, url, created_at, updated_at) VALUES ('rtsp', 'gate', 'rtsp://10.0.0.1/', ?, ?)",
		"INSERT INTO devices (type, name, created_at, updated_at) VALUES ('onvif', 'door', ?, ?)",
		"INSERT INTO channels (device_id, name, url, always_on, created_at, updated_at) VALUES (1, 'gate', 'rtsp://10.0.0.1/', 1, ?, ?)",
		"INSERT INTO channels (device_id, name, created_at, updated_at) VALUES (2, 'door', ?, ?)",
	} {
		args := []any{created, created}[:strings.Count(q, "?")]
		if _, err := old.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := old.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('jwt_secret', 's')"); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := versions(t, db.sql); len(got) < 2 || got[1] != 2 {
		t.Fatalf("versions %v, want [1 2]", got)
	}

	devs, total, err := db.ListDevices(ctx, device.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []*device.Device{
		{ID: 1, Type: device.TypeRTSP, Name: "gate", URL: "rtsp://10.0.0.1/", CreatedAt: created, UpdatedAt: created, StreamTransport: device.StreamUDP},
		{ID: 2, Type: device.TypeONVIF, Name: "door", CreatedAt: created, UpdatedAt: created, StreamTransport: device.StreamUDP},
	}
	if total != 2 || len(devs) != 2 {
		t.Fatalf("ListDevices = %d devices, total %d, want 2", len(devs), total)
	}
	for i := range want {
		if !sameDevice(devs[i], want[i]) {
			t.Errorf("device %d = %+v\nwant %+v", i, devs[i], want[i])
		}
	}
	chans, err := db.Channels(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantChans := []*device.Channel{
		{ID: 1, DeviceID: 1, Name: "gate", URL: "rtsp://10.0.0.1/", AlwaysOn: true, CreatedAt: created, UpdatedAt: created, Kind: device.KindChannel},
		{ID: 2, DeviceID: 2, Name: "door", CreatedAt: created, UpdatedAt: created, Kind: device.KindChannel},
	}
	if len(chans) != 2 {
		t.Fatalf("%d channels, want 2", len(chans))
	}
	for i := range wantChans {
		if !sameChannel(chans[i], wantChans[i]) {
			t.Errorf("channel %d = %+v\nwant %+v", i, chans[i], wantChans[i])
		}
	}
	if u, err := db.UserByName(ctx, "admin"); err != nil || u.PasswordHash != "h" {
		t.Errorf("user after migration = %+v, %v", u, err)
	}
	if v, ok, err := db.Setting(ctx, "jwt_secret"); err != nil || !ok || v != "s" {
		t.Errorf("setting after migration = %q, %v, %v", v, ok, err)
	}

	// The migrated rows are ordinary rows: they update, and the old devices may become GB ones.
	devs[0].GBID = "34020000001320000001"
	if err := db.UpdateDevice(ctx, devs[0]); err != nil {
		t.Fatal(err)
	}
	if d, err := db.DeviceByGBID(ctx, "34020000001320000001"); err != nil || d.ID != 1 {
		t.Errorf("DeviceByGBID after update = %+v, %v", d, err)
	}
}

// newGBDevice returns a GB28181 device with every field set, its times in a zone other than
// UTC so that the round trip proves they are stored as instants.
func newGBDevice(gbID string) *device.Device {
	zone := time.FixedZone("CST", 8*3600)
	at := time.Date(2025, 6, 1, 12, 30, 15, 123456789, zone)
	return &device.Device{
		Type: device.TypeGB28181, Name: "NVR 大门", GBID: gbID,
		Manufacturer: "Hikvision", Model: "DS-7608N", Firmware: "V4.30.000",
		Transport: device.TransportTCP, RemoteAddr: "192.0.2.7:5061", Charset: device.CharsetGB18030,
		Online: true, RegisteredAt: at, LastKeepalive: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour),
		Password: "dev-secret", StreamTransport: device.StreamTCPPassive,
		Longitude: 116.397128, Latitude: 39.916527, PositionAt: at.Add(2 * time.Minute),
	}
}

// newGBChannel returns a catalog channel with every field set.
func newGBChannel(gbID, name string) *device.Channel {
	return &device.Channel{
		Name: name, GBID: gbID, ParentID: "34020000001180000001",
		Manufacturer: "Hikvision", Model: "DS-2CD", Status: device.ChannelOn, PTZType: device.PTZDome,
		CivilCode: "340200", Address: "北门", Longitude: 116.1, Latitude: 39.9, Kind: device.KindChannel,
	}
}

func TestGBDeviceRoundTrip(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	d := newGBDevice("34020000001180000001")
	chans := []*device.Channel{
		newGBChannel("34020000001310000001", "前门"),
		{Name: "业务分组", GBID: "34020000002150000001", Kind: device.KindBusinessGroup},
		{Name: "无类型", GBID: "340200"}, // Kind left empty: stored as the default
	}
	if err := db.CreateDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	if chans[2].Kind != device.KindChannel {
		t.Errorf("empty Kind filled back as %q, want %q", chans[2].Kind, device.KindChannel)
	}

	got, err := db.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameDevice(got, d) {
		t.Errorf("Device = %+v\nwant %+v", got, d)
	}
	if got.RegisteredAt.Location() != time.UTC {
		t.Errorf("RegisteredAt in %v, want UTC", got.RegisteredAt.Location())
	}
	if got, err := db.DeviceByGBID(ctx, d.GBID); err != nil || !sameDevice(got, d) {
		t.Errorf("DeviceByGBID = %+v, %v\nwant %+v", got, err, d)
	}
	if list, _, err := db.ListDevices(ctx, device.ListOptions{Type: device.TypeGB28181}); err != nil || len(list) != 1 || !sameDevice(list[0], d) {
		t.Errorf("ListDevices = %+v, %v", list, err)
	}
	gotChans, err := db.Channels(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range chans {
		if !sameChannel(gotChans[i], c) {
			t.Errorf("Channels[%d] = %+v\nwant %+v", i, gotChans[i], c)
		}
		if got, err := db.Channel(ctx, c.ID); err != nil || !sameChannel(got, c) {
			t.Errorf("Channel(%d) = %+v, %v", c.ID, got, err)
		}
		if got, err := db.ChannelByGBID(ctx, d.ID, c.GBID); err != nil || !sameChannel(got, c) {
			t.Errorf("ChannelByGBID(%s) = %+v, %v", c.GBID, got, err)
		}
	}

	// Every field changes, and the times go back to "never" (NULL).
	d.Name, d.GBID, d.Manufacturer, d.Model, d.Firmware = "NVR 2", "34020000001180000002", "Dahua", "NVR4208", "V5"
	d.Transport, d.RemoteAddr, d.Charset, d.Online = device.TransportUDP, "198.51.100.1:5060", device.CharsetUTF8, false
	d.RegisteredAt, d.LastKeepalive, d.ExpiresAt, d.PositionAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	d.Password, d.StreamTransport, d.Longitude, d.Latitude = "", device.StreamTCPActive, -1.5, -2.25
	if err := db.UpdateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Device(ctx, d.ID); err != nil || !sameDevice(got, d) {
		t.Errorf("Device after update = %+v, %v\nwant %+v", got, err, d)
	}
	d.StreamTransport = ""
	if err := db.UpdateDevice(ctx, d); err != nil || d.StreamTransport != device.StreamUDP {
		t.Errorf("UpdateDevice with empty StreamTransport: %v, filled back %q", err, d.StreamTransport)
	}

	c := chans[0]
	c.GBID, c.ParentID, c.Manufacturer, c.Model, c.Status = "34020000001320000009", "", "Uniview", "IPC", device.ChannelOff
	c.PTZType, c.CivilCode, c.Address, c.Longitude, c.Latitude, c.Kind = device.PTZRemote, "3402", "", 0, 0, device.KindDevice
	if err := db.UpdateChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Channel(ctx, c.ID); err != nil || !sameChannel(got, c) {
		t.Errorf("Channel after update = %+v, %v\nwant %+v", got, err, c)
	}
}

func TestGBIDUniqueness(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	a := newGBDevice("34020000001320000001")
	if err := db.CreateDevice(ctx, a, []*device.Channel{newGBChannel("34020000001310000001", "a")}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDevice(ctx, newGBDevice(a.GBID), nil); !errors.Is(err, device.ErrConflict) {
		t.Errorf("second device with the same GB ID: %v, want ErrConflict", err)
	}
	b := newGBDevice("34020000001320000002")
	// Another device may number its channels like the first one.
	bc := []*device.Channel{newGBChannel("34020000001310000001", "b1"), newGBChannel("34020000001310000002", "b2")}
	if err := db.CreateDevice(ctx, b, bc); err != nil {
		t.Fatal(err)
	}
	b.GBID = a.GBID
	if err := db.UpdateDevice(ctx, b); !errors.Is(err, device.ErrConflict) {
		t.Errorf("UpdateDevice to a taken GB ID: %v, want ErrConflict", err)
	}
	bc[1].GBID = bc[0].GBID
	if err := db.UpdateChannel(ctx, bc[1]); !errors.Is(err, device.ErrConflict) {
		t.Errorf("UpdateChannel to a GB ID taken in the device: %v, want ErrConflict", err)
	}
	// Devices and channels without a GB ID do not collide with each other.
	for range 2 {
		d, chans := newCamera("rtsp", 2)
		if err := db.CreateDevice(ctx, d, chans); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGBNotFound(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	rtsp, chans := newCamera("rtsp", 1) // has an empty GB ID, which must not be found
	if err := db.CreateDevice(ctx, rtsp, chans); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"34020000001320000001", ""} {
		if _, err := db.DeviceByGBID(ctx, id); !errors.Is(err, device.ErrNotFound) {
			t.Errorf("DeviceByGBID(%q): %v, want ErrNotFound", id, err)
		}
		if _, err := db.ChannelByGBID(ctx, rtsp.ID, id); !errors.Is(err, device.ErrNotFound) {
			t.Errorf("ChannelByGBID(%q): %v, want ErrNotFound", id, err)
		}
	}
	for name, err := range map[string]error{
		"SetDeviceOnline":   db.SetDeviceOnline(ctx, 42, true),
		"TouchKeepalive":    db.TouchKeepalive(ctx, 42, time.Now()),
		"SetDevicePosition": db.SetDevicePosition(ctx, 42, 1, 2, time.Now()),
	} {
		if !errors.Is(err, device.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if _, _, _, err := db.SyncChannels(ctx, 42, []*device.Channel{newGBChannel("1", "x")}, true); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("SyncChannels: %v, want ErrNotFound", err)
	}
}

func TestDeviceLiveness(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	gb := newGBDevice("34020000001320000001")
	gb.Online = false
	other := newGBDevice("34020000001320000002")
	rtsp, _ := newCamera("rtsp", 0)
	for _, d := range []*device.Device{gb, other, rtsp} {
		if err := db.CreateDevice(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	onlineIDs := func() []int64 {
		t.Helper()
		list, err := db.OnlineGBDevices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, d := range list {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := onlineIDs(); fmt.Sprint(got) != fmt.Sprint([]int64{other.ID}) {
		t.Errorf("OnlineGBDevices = %v, want [%d]", got, other.ID)
	}

	at := time.Date(2025, 7, 1, 1, 2, 3, 0, time.Local)
	if err := db.TouchKeepalive(ctx, gb.ID, at); err != nil {
		t.Fatal(err)
	}
	got, err := db.Device(ctx, gb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Online || !got.LastKeepalive.Equal(at) || !got.UpdatedAt.Equal(gb.UpdatedAt) {
		t.Errorf("after TouchKeepalive: online %v, last keepalive %v, updated %v (was %v)",
			got.Online, got.LastKeepalive, got.UpdatedAt, gb.UpdatedAt)
	}
	if got := onlineIDs(); fmt.Sprint(got) != fmt.Sprint([]int64{gb.ID, other.ID}) {
		t.Errorf("OnlineGBDevices = %v, want both", got)
	}

	for range 2 { // setting the value it already has is not "not found"
		if err := db.SetDeviceOnline(ctx, other.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := onlineIDs(); fmt.Sprint(got) != fmt.Sprint([]int64{gb.ID}) {
		t.Errorf("OnlineGBDevices = %v, want [%d]", got, gb.ID)
	}

	if err := db.SetDevicePosition(ctx, gb.ID, 121.47, 31.23, at); err != nil {
		t.Fatal(err)
	}
	got, err = db.Device(ctx, gb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Longitude != 121.47 || got.Latitude != 31.23 || !got.PositionAt.Equal(at) || !got.UpdatedAt.Equal(gb.UpdatedAt) {
		t.Errorf("after SetDevicePosition: %v %v at %v, updated %v", got.Longitude, got.Latitude, got.PositionAt, got.UpdatedAt)
	}
	// Everything else is as created.
	want := *gb
	want.Online, want.LastKeepalive, want.Longitude, want.Latitude, want.PositionAt = true, at, 121.47, 31.23, at
	if !sameDevice(got, &want) {
		t.Errorf("Device = %+v\nwant %+v", got, &want)
	}
}

// catalog returns n channels numbered from first, parented to the device.
func catalog(first, n int) []*device.Channel {
	out := make([]*device.Channel, n)
	for i := range n {
		c := newGBChannel(fmt.Sprintf("3402000000131%07d", first+i), fmt.Sprintf("通道 %d", first+i))
		out[i] = c
	}
	return out
}

func channelsByGBID(t *testing.T, db *DB, deviceID int64) map[string]*device.Channel {
	t.Helper()
	list, err := db.Channels(t.Context(), deviceID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*device.Channel{}
	for _, c := range list {
		out[c.GBID] = c
	}
	return out
}

func TestSyncChannels(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()

	nvr := newGBDevice("34020000001180000001")
	manual := &device.Channel{Name: "manual", URL: "rtsp://10.0.0.9/"} // no GB ID: not the catalog's
	if err := db.CreateDevice(ctx, nvr, []*device.Channel{manual}); err != nil {
		t.Fatal(err)
	}
	// Another device with the same channel IDs must not be touched by syncs of the first.
	twin := newGBDevice("34020000001180000002")
	twinChans := catalog(1, 5)
	if err := db.CreateDevice(ctx, twin, twinChans); err != nil {
		t.Fatal(err)
	}

	first := catalog(1, 5)
	added, updated, removed, err := db.SyncChannels(ctx, nvr.ID, first, true)
	if err != nil || added != 5 || updated != 0 || removed != 0 {
		t.Fatalf("first sync = %d/%d/%d, %v, want 5 added", added, updated, removed, err)
	}
	stored := channelsByGBID(t, db, nvr.ID)
	for _, c := range first {
		if c.ID == 0 || c.DeviceID != nvr.ID || c.CreatedAt.IsZero() || !sameChannel(stored[c.GBID], c) {
			t.Errorf("channel %s filled back as %+v, stored %+v", c.GBID, c, stored[c.GBID])
		}
	}

	// The user switches one channel to always-on; a re-sync must keep that.
	first[0].AlwaysOn = true
	if err := db.UpdateChannel(ctx, first[0]); err != nil {
		t.Fatal(err)
	}

	// Second catalog: 1 renamed, 1 gone offline, 1 unchanged, 2 missing, 2 new, one of them twice.
	time.Sleep(time.Millisecond) // so that a rewritten UpdatedAt differs
	second := catalog(1, 3)
	second[0].Name = "renamed"
	second[1].Status = device.ChannelOff
	second = append(second, catalog(6, 2)...)
	dup := newGBChannel(second[4].GBID, "seen twice, last wins")
	second = append(second, dup)
	added, updated, removed, err = db.SyncChannels(ctx, nvr.ID, second, false)
	if err != nil || added != 2 || updated != 2 || removed != 0 {
		t.Fatalf("second sync = %d/%d/%d, %v, want 2 added, 2 updated", added, updated, removed, err)
	}
	stored = channelsByGBID(t, db, nvr.ID)
	if len(stored) != 1+7 {
		t.Errorf("%d channels stored, want 8 (manual + 5 + 2 new, nothing removed)", len(stored))
	}
	for i := range 3 {
		if second[i].ID != first[i].ID || !second[i].CreatedAt.Equal(first[i].CreatedAt) {
			t.Errorf("channel %s: ID %d created %v, want the first sync's %d %v",
				second[i].GBID, second[i].ID, second[i].CreatedAt, first[i].ID, first[i].CreatedAt)
		}
	}
	if s := stored[first[0].GBID]; s.Name != "renamed" || !s.AlwaysOn || !second[0].AlwaysOn || s.UpdatedAt.Equal(first[0].UpdatedAt) {
		t.Errorf("renamed channel = %+v", s)
	}
	if s := stored[first[1].GBID]; s.Status != device.ChannelOff {
		t.Errorf("status = %q, want OFF", s.Status)
	}
	if s := stored[first[2].GBID]; !s.UpdatedAt.Equal(first[2].UpdatedAt) {
		t.Errorf("unchanged channel's UpdatedAt moved from %v to %v", first[2].UpdatedAt, s.UpdatedAt)
	}
	if s := stored[dup.GBID]; s.Name != dup.Name || second[4].ID != dup.ID {
		t.Errorf("duplicated channel stored as %q with IDs %d/%d", s.Name, second[4].ID, dup.ID)
	}
	for _, c := range second[:4] { // second[4] lost to dup
		if !sameChannel(stored[c.GBID], c) {
			t.Errorf("channel %s filled back as %+v\nstored %+v", c.GBID, c, stored[c.GBID])
		}
	}

	// Same catalog again, now complete: the two missing ones go; the manual channel stays.
	added, updated, removed, err = db.SyncChannels(ctx, nvr.ID, catalogCopy(second), true)
	if err != nil || added != 0 || updated != 0 || removed != 2 {
		t.Fatalf("third sync = %d/%d/%d, %v, want 2 removed", added, updated, removed, err)
	}
	stored = channelsByGBID(t, db, nvr.ID)
	if len(stored) != 6 || stored[""] == nil || stored[""].ID != manual.ID {
		t.Errorf("after removal: %d channels, manual %+v", len(stored), stored[""])
	}

	// An empty complete catalog removes every GB channel.
	if _, _, removed, err := db.SyncChannels(ctx, nvr.ID, nil, true); err != nil || removed != 5 {
		t.Errorf("empty sync removed %d, %v, want 5", removed, err)
	}
	if got := channelsByGBID(t, db, twin.ID); len(got) != 5 {
		t.Errorf("twin device has %d channels, want its 5", len(got))
	}
	for i, c := range twinChans {
		if got, err := db.Channel(ctx, c.ID); err != nil || !sameChannel(got, twinChans[i]) {
			t.Errorf("twin channel changed: %+v, %v", got, err)
		}
	}

	if _, _, _, err := db.SyncChannels(ctx, nvr.ID, []*device.Channel{{Name: "no id"}}, false); err == nil {
		t.Error("SyncChannels accepted a channel without GB ID")
	}
	if _, _, _, err := db.SyncChannels(ctx, nvr.ID, []*device.Channel{nil}, false); err == nil {
		t.Error("SyncChannels accepted a nil channel")
	}
}

// catalogCopy returns fresh channels with the catalog fields of cs, as a new catalog brings.
func catalogCopy(cs []*device.Channel) []*device.Channel {
	out := make([]*device.Channel, len(cs))
	for i, c := range cs {
		out[i] = &device.Channel{
			Name: c.Name, GBID: c.GBID, ParentID: c.ParentID, Manufacturer: c.Manufacturer, Model: c.Model,
			Status: c.Status, PTZType: c.PTZType, CivilCode: c.CivilCode, Address: c.Address,
			Longitude: c.Longitude, Latitude: c.Latitude, Kind: c.Kind,
		}
	}
	return out
}

// TestSyncChannelsLarge stores a 10,000-channel catalog, as one NVR or lower platform sends,
// and logs how long the first sync, an unchanged re-sync and a re-sync that changes every
// channel take (issue 3 asks for well under 5 s; the figure is logged, not asserted, because
// it depends on the machine and on -race).
func TestSyncChannelsLarge(t *testing.T) {
	const n = 10000
	db := openTest(t)
	ctx := t.Context()
	nvr := newGBDevice("34020000002000000001")
	if err := db.CreateDevice(ctx, nvr, nil); err != nil {
		t.Fatal(err)
	}

	sync := func(what string, chans []*device.Channel, wantAdded, wantUpdated int) {
		t.Helper()
		start := time.Now()
		added, updated, removed, err := db.SyncChannels(ctx, nvr.ID, chans, true)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if added != wantAdded || updated != wantUpdated || removed != 0 {
			t.Errorf("%s: %d added, %d updated, %d removed", what, added, updated, removed)
		}
		t.Logf("%s of %d channels: %v", what, n, elapsed)
	}

	chans := catalog(1, n)
	sync("first sync", chans, n, 0)
	again := catalogCopy(chans)
	sync("unchanged re-sync", again, 0, 0)
	for _, c := range again {
		c.Status = device.ChannelOff
	}
	sync("re-sync changing all", again, 0, n)

	stored := channelsByGBID(t, db, nvr.ID)
	if len(stored) != n {
		t.Fatalf("%d channels stored, want %d", len(stored), n)
	}
	for i, c := range again {
		if c.ID != chans[i].ID || stored[c.GBID].Status != device.ChannelOff {
			t.Fatalf("channel %s: ID %d (first %d), status %q", c.GBID, c.ID, chans[i].ID, stored[c.GBID].Status)
		}
	}
}

// BenchmarkSyncChannels measures a first sync of a 10,000-channel catalog.
func BenchmarkSyncChannels(b *testing.B) {
	const n = 10000
	db, err := Open(b.Context(), Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := b.Context()
	i := 0
	for b.Loop() {
		i++
		d := newGBDevice(fmt.Sprintf("340200000011800%05d", i))
		if err := db.CreateDevice(ctx, d, nil); err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := db.SyncChannels(ctx, d.ID, catalog(1, n), true); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeleteChannelsByGBID(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	nvr := newGBDevice("34020000001180000001")
	chans := catalog(1, 4)
	if err := db.CreateDevice(ctx, nvr, chans); err != nil {
		t.Fatal(err)
	}
	n, err := db.DeleteChannelsByGBID(ctx, nvr.ID, []string{chans[0].GBID, chans[2].GBID, "34020000001310009999", ""})
	if err != nil || n != 2 {
		t.Fatalf("DeleteChannelsByGBID = %d, %v, want 2", n, err)
	}
	left := channelsByGBID(t, db, nvr.ID)
	if len(left) != 2 || left[chans[1].GBID] == nil || left[chans[3].GBID] == nil {
		t.Errorf("left %v", left)
	}
	if n, err := db.DeleteChannelsByGBID(ctx, nvr.ID, nil); err != nil || n != 0 {
		t.Errorf("DeleteChannelsByGBID(nil) = %d, %v", n, err)
	}
}

func TestSetChannelsStatus(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	nvr := newGBDevice("34020000001180000001")
	chans := catalog(1, 3)
	if err := db.CreateDevice(ctx, nvr, chans); err != nil {
		t.Fatal(err)
	}
	other := newGBDevice("34020000001180000002")
	if err := db.CreateDevice(ctx, other, catalog(1, 3)); err != nil {
		t.Fatal(err)
	}
	status := func(deviceID int64) string {
		t.Helper()
		var s string
		for _, c := range catalog(1, 3) {
			got := channelsByGBID(t, db, deviceID)[c.GBID]
			s += got.Status[:2] // "ON" or "OF"
		}
		return s
	}

	time.Sleep(time.Millisecond)
	if err := db.SetChannelsStatus(ctx, nvr.ID, []string{chans[1].GBID, "34020000001310009999"}, device.ChannelOff); err != nil {
		t.Fatal(err)
	}
	if got := status(nvr.ID); got != "ONOFON" {
		t.Errorf("after one OFF: %s", got)
	}
	stored := channelsByGBID(t, db, nvr.ID)
	if !stored[chans[0].GBID].UpdatedAt.Equal(chans[0].UpdatedAt) || stored[chans[1].GBID].UpdatedAt.Equal(chans[1].UpdatedAt) {
		t.Error("UpdatedAt must move on the changed channel only")
	}
	if err := db.SetChannelsStatus(ctx, nvr.ID, []string{}, device.ChannelOn); err != nil {
		t.Fatal(err)
	}
	if got := status(nvr.ID); got != "ONOFON" {
		t.Errorf("an empty list changed the status: %s", got)
	}
	if err := db.SetChannelsStatus(ctx, nvr.ID, nil, device.ChannelOff); err != nil {
		t.Fatal(err)
	}
	if got := status(nvr.ID); got != "OFOFOF" {
		t.Errorf("after all OFF: %s", got)
	}
	if got := status(other.ID); got != "ONONON" {
		t.Errorf("the other device changed: %s", got)
	}
}

func TestEvents(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	a, b := newGBDevice("34020000001320000001"), newGBDevice("34020000001320000002")
	for _, d := range []*device.Device{a, b} {
		if err := db.CreateDevice(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
	}

	base := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	zone := time.FixedZone("CST", 8*3600)
	var events []*device.Event
	for i := range 10 {
		e := &device.Event{
			DeviceID: a.ID, ChannelGBID: "34020000001340000001", Kind: device.EventAlarm,
			Priority: 1 + i%4, Method: 5, AlarmType: "2", Description: fmt.Sprintf("移动侦测 %d", i),
			Longitude: 116.1, Latitude: 39.9,
			// Alternate zones: the filter and the order must still follow the instants.
			Time: base.Add(time.Duration(i) * time.Hour).In([]*time.Location{time.UTC, zone}[i%2]),
		}
		if i >= 7 {
			e.DeviceID, e.Kind = b.ID, "other"
		}
		if err := db.CreateEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 || e.CreatedAt.IsZero() {
			t.Fatalf("event not filled in: %+v", e)
		}
		events = append(events, e)
	}
	// Listed newest first: event i has index 9-i.
	ids := func(idx ...int) string {
		var s []int64
		for _, i := range idx {
			s = append(s, events[i].ID)
		}
		return fmt.Sprint(s)
	}

	tests := []struct {
		name  string
		f     device.EventFilter
		want  string
		total int64
	}{
		{"all", device.EventFilter{}, ids(9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 10},
		{"page", device.EventFilter{Offset: 2, Limit: 3}, ids(7, 6, 5), 10},
		{"device", device.EventFilter{DeviceID: b.ID}, ids(9, 8, 7), 3},
		{"kind", device.EventFilter{Kind: device.EventAlarm, Limit: 2}, ids(6, 5), 7},
		{"since", device.EventFilter{Since: base.Add(5 * time.Hour).In(zone)}, ids(9, 8, 7, 6, 5), 5},
		{"until", device.EventFilter{Until: base.Add(2 * time.Hour)}, ids(1, 0), 2},
		{"range", device.EventFilter{DeviceID: a.ID, Since: base.Add(time.Hour), Until: base.Add(4 * time.Hour), Offset: 1}, ids(2, 1), 3},
		{"none", device.EventFilter{DeviceID: a.ID, Kind: "other"}, "[]", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, total, err := db.ListEvents(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range list {
				got = append(got, e.ID)
			}
			if fmt.Sprint(got) != tt.want || total != tt.total {
				t.Errorf("got %v total %d, want %s total %d", got, total, tt.want, tt.total)
			}
		})
	}

	list, _, err := db.ListEvents(ctx, device.EventFilter{Limit: 1, Offset: 9})
	if err != nil {
		t.Fatal(err)
	}
	got, want := list[0], events[0]
	if !got.Time.Equal(want.Time) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("times %v %v, want %v %v", got.Time, got.CreatedAt, want.Time, want.CreatedAt)
	}
	g, w := *got, *want
	g.Time, g.CreatedAt, w.Time, w.CreatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("event = %+v\nwant %+v", g, w)
	}

	// Without a device time the event is dated when stored.
	now := &device.Event{DeviceID: a.ID, Kind: device.EventAlarm}
	if err := db.CreateEvent(ctx, now); err != nil || !now.Time.Equal(now.CreatedAt) {
		t.Errorf("event without time: %v, time %v created %v", err, now.Time, now.CreatedAt)
	}
	if err := db.CreateEvent(ctx, &device.Event{DeviceID: 42, Kind: device.EventAlarm}); err == nil {
		t.Error("event of a missing device stored")
	}
	if _, _, err := db.ListEvents(ctx, device.EventFilter{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}

	// Events go with their device.
	if err := db.DeleteDevice(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, total, err := db.ListEvents(ctx, device.EventFilter{}); err != nil || total != 8 {
		t.Errorf("after deleting a device: total %d, %v, want 8", total, err)
	}
}
