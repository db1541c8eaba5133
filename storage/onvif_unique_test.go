package storage

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/migrations"
)

// onvifAt returns an ONVIF camera at xaddr with one profile.
func onvifAt(name, xaddr string) (*device.Device, []*device.Channel) {
	d := &device.Device{Type: device.TypeONVIF, Name: name, XAddr: xaddr, Username: "admin", Password: "pw"}
	return d, []*device.Channel{{Name: name + " main", URL: "rtsp://192.0.2.10/1", ProfileToken: "Profile_1", Role: device.RoleMain}}
}

func countRows(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestONVIFAddressUnique: one device per device service address (host and port), whichever way
// the address is written; devices of other types are not concerned.
func TestONVIFAddressUnique(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	d1, c1 := onvifAt("door", "http://192.0.2.10/onvif/device_service")
	if err := db.CreateONVIFDevice(ctx, d1, c1); err != nil {
		t.Fatal(err)
	}
	if d1.ID == 0 || c1[0].ID == 0 || c1[0].DeviceID != d1.ID || d1.CreatedAt.IsZero() {
		t.Errorf("not filled in: %+v %+v", d1, c1[0])
	}
	got, err := db.Device(ctx, d1.ID)
	if err != nil || got.XAddr != d1.XAddr || got.Username != "admin" || got.Type != device.TypeONVIF {
		t.Errorf("stored %+v, %v", got, err)
	}

	// The same camera under another spelling: refused, and nothing of it stored.
	d2, c2 := onvifAt("door again", "http://192.0.2.10:80/onvif/Device_Service")
	if err := db.CreateONVIFDevice(ctx, d2, c2); !errors.Is(err, device.ErrConflict) {
		t.Fatalf("second device of the camera: %v", err)
	}
	if d2.ID != 0 || c2[0].ID != 0 {
		t.Errorf("failed create filled in IDs: %+v %+v", d2, c2[0])
	}
	if n, m := countRows(t, db, "devices"), countRows(t, db, "channels"); n != 1 || m != 1 {
		t.Errorf("%d devices, %d channels after the refused create", n, m)
	}

	// Another port is another device service; other device types have no address.
	d3, c3 := onvifAt("nvr", "http://192.0.2.10:8080/onvif/device_service")
	if err := db.CreateONVIFDevice(ctx, d3, c3); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := db.CreateDevice(ctx, &device.Device{Type: device.TypeRTSP, Name: name, URL: "rtsp://192.0.2.10/"}, nil); err != nil {
			t.Fatal(err)
		}
	}

	// A device cannot move onto the address of another.
	moved := *d3
	moved.XAddr = "http://192.0.2.10/onvif/device_service"
	if err := db.SyncONVIFDevice(ctx, &moved, nil, nil, nil); !errors.Is(err, device.ErrConflict) {
		t.Fatalf("moving onto another device: %v", err)
	}
	if got, _ := db.Device(ctx, d3.ID); got.XAddr != d3.XAddr {
		t.Errorf("address after the refused move: %s", got.XAddr)
	}
	// Once the first device is deleted, its address is free.
	if err := db.DeleteDevice(ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncONVIFDevice(ctx, &moved, nil, nil, nil); err != nil {
		t.Fatalf("moving onto a free address: %v", err)
	}
	if err := db.CreateONVIFDevice(ctx, d2, c2); !errors.Is(err, device.ErrConflict) {
		t.Errorf("the moved device does not hold its new address: %v", err)
	}
	d4, c4 := onvifAt("old address", "http://192.0.2.10:8080/onvif/device_service")
	if err := db.CreateONVIFDevice(ctx, d4, c4); err != nil {
		t.Errorf("the moved device still holds its old address: %v", err)
	}
}

// TestCreateONVIFDeviceFields: CreateONVIFDevice stores every field CreateDevice stores.
func TestCreateONVIFDeviceFields(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	d, chans := newONVIF()
	d.LastKeepalive = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	if err := db.CreateONVIFDevice(ctx, d, chans); err != nil {
		t.Fatal(err)
	}
	got, err := db.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameDevice(got, d) || got.Password != "pw" || got.Serial != "SN1" || got.ClockOffset != d.ClockOffset ||
		!got.Online || !got.LastKeepalive.Equal(d.LastKeepalive) || got.StreamTransport != device.StreamUDP {
		t.Errorf("stored %+v\nwant %+v", got, d)
	}
	cs, err := db.Channels(ctx, d.ID)
	if err != nil || len(cs) != 2 || cs[0].ID != chans[0].ID || cs[0].Kind != device.KindChannel || cs[1].ProfileToken != "Profile_2" {
		t.Errorf("channels %+v, %v", cs, err)
	}
}

// TestONVIFAddressConcurrent creates one camera from several goroutines at once: exactly one
// device is stored.
func TestONVIFAddressConcurrent(t *testing.T) {
	db := openTest(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, c := onvifAt("door", "http://Cam.example:80/onvif/device_service")
			errs[i] = db.CreateONVIFDevice(t.Context(), d, c)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, device.ErrConflict):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || countRows(t, db, "devices") != 1 || countRows(t, db, "channels") != 1 {
		t.Errorf("%d creates succeeded; %d devices, %d channels stored", ok, countRows(t, db, "devices"), countRows(t, db, "channels"))
	}
}

// TestClaimONVIFAddresses opens a database migrated by a version 4 binary, which let one camera
// be added twice: the upgrade succeeds, the older device gets the address, the duplicate is
// reported, and the address is taken for new devices from then on.
func TestClaimONVIFAddresses(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	old, err := sql.Open("sqlite3", sqliteDSN(filepath.Join(dir, defaultFileName)))
	if err != nil {
		t.Fatal(err)
	}
	v4 := map[string]string{}
	for _, f := range []string{"0001_init.sql", "0002_gb28181.sql", "0003_recordings.sql", "0004_onvif.sql"} {
		b, err := migrations.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v4[f] = string(b)
	}
	if err := migrate(ctx, old, mapFS(v4), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	for _, x := range []string{
		"http://192.0.2.10/onvif/device_service",    // 1
		"http://192.0.2.10:80/onvif/device_service", // 2: the same camera
		"http://192.0.2.11/onvif/device_service",    // 3
	} {
		if _, err := old.ExecContext(ctx, "INSERT INTO devices (type, name, xaddr, created_at, updated_at) VALUES ('onvif', 'cam', ?, ?, ?)", x, created, created); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.ExecContext(ctx, "INSERT INTO devices (type, name, url, created_at, updated_at) VALUES ('rtsp', 'gate', 'rtsp://10.0.0.1/', ?, ?)", created, created); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("upgrade of a database with a camera added twice: %v", err)
	}
	defer db.Close()
	claimed, dups, err := db.ClaimONVIFAddresses(ctx)
	if err != nil || claimed != 2 || !slices.Equal(dups, []int64{2}) {
		t.Fatalf("claimed %d, dups %v, %v; want 2, [2]", claimed, dups, err)
	}
	d, c := onvifAt("new", "http://192.0.2.11:80/")
	if err := db.CreateONVIFDevice(ctx, d, c); !errors.Is(err, device.ErrConflict) {
		t.Errorf("a camera claimed at start-up added again: %v", err)
	}
	// Nothing more to claim; the duplicate is reported again until someone deletes it.
	if claimed, dups, err := db.ClaimONVIFAddresses(ctx); err != nil || claimed != 0 || !slices.Equal(dups, []int64{2}) {
		t.Errorf("second claim: %d, %v, %v", claimed, dups, err)
	}
	if err := db.DeleteDevice(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if claimed, dups, err := db.ClaimONVIFAddresses(ctx); err != nil || claimed != 1 || len(dups) != 0 {
		t.Errorf("claim after the first was deleted: %d, %v, %v", claimed, dups, err)
	}
}
