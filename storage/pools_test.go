package storage

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

func TestReadPoolIsReadOnly(t *testing.T) {
	db := openTest(t)
	if db.readSQL == nil {
		t.Fatal("a SQLite file has no separate read pool")
	}
	if got := db.sql.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool allows %d connections, want 1", got)
	}
	if got := db.readSQL.Stats().MaxOpenConnections; got != readConns {
		t.Errorf("read pool allows %d connections, want %d", got, readConns)
	}
	// Hold several read connections at once: each must be read-only and see the WAL file.
	conns := make([]*gorm.DB, 0, readConns)
	for range readConns {
		tx := db.read.Begin()
		if tx.Error != nil {
			t.Fatal(tx.Error)
		}
		conns = append(conns, tx)
	}
	for i, tx := range conns {
		for name, want := range map[string]string{"query_only": "1", "journal_mode": "wal", "busy_timeout": "5000"} {
			var v string
			if err := tx.Raw("PRAGMA " + name).Scan(&v).Error; err != nil {
				t.Fatal(err)
			}
			if v != want {
				t.Errorf("read connection %d: PRAGMA %s = %q, want %q", i, name, v, want)
			}
		}
		err := tx.Exec("INSERT INTO settings (key, value) VALUES ('x', 'y')").Error
		if err == nil || !strings.Contains(err.Error(), "readonly") {
			t.Errorf("read connection %d: INSERT = %v, want a read-only error", i, err)
		}
	}
	for _, tx := range conns {
		tx.Rollback()
	}
}

func TestMemoryDatabaseHasOnePool(t *testing.T) {
	db, err := Open(t.Context(), Options{DSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.readSQL != nil || db.read != db.gorm {
		t.Error("an in-memory database has a separate read pool, which would open another, empty database")
	}
	d, _ := newCamera("cam", 1)
	if err := db.CreateDevice(t.Context(), d, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Device(t.Context(), d.ID); err != nil {
		t.Errorf("read after write: %v", err)
	}
}

// TestRegistrationBurstNeverBusy is a burst of GB registrations, as when a site powers up: every
// device is looked up, created, updated and sent a keepalive, all at once. With a busy timeout of
// 1 ms any second writer connection would fail with "database is locked" at once; with the
// single writer, writes wait their turn and none fails.
func TestRegistrationBurstNeverBusy(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "nvr.db") + "?_busy_timeout=1"
	db, err := Open(t.Context(), Options{DSN: dsn, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	const devices = 200

	var wg sync.WaitGroup
	errs := make(chan error, devices)
	for i := range devices {
		wg.Go(func() {
			id := fmt.Sprintf("340200000013200%05d", i)
			if _, err := db.DeviceByGBID(ctx, id); err == nil {
				errs <- fmt.Errorf("%s exists before it registered", id)
				return
			}
			d := &device.Device{Type: device.TypeGB28181, Name: id, GBID: id, Online: true, RegisteredAt: time.Now()}
			if err := db.CreateDevice(ctx, d, nil); err != nil {
				errs <- err
				return
			}
			got, err := db.DeviceByGBID(ctx, id) // read-your-write through the read pool
			if err != nil {
				errs <- err
				return
			}
			got.Manufacturer = "gbsim"
			if err := db.UpdateDevice(ctx, got); err != nil {
				errs <- err
				return
			}
			if err := db.TouchKeepalive(ctx, got.ID, time.Now()); err != nil {
				errs <- err
				return
			}
			if _, _, err := db.ListDevices(ctx, device.ListOptions{Limit: 1}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	online, err := db.OnlineGBDevices(ctx)
	if err != nil || len(online) != devices {
		t.Errorf("%d devices online, %v; want %d", len(online), err, devices)
	}
}

func TestChannelsOfDevices(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	var ids []int64
	for i := range 3 {
		d, chans := newCamera(fmt.Sprintf("cam%d", i), i+1)
		if err := db.CreateDevice(ctx, d, chans); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	tests := []struct {
		name string
		ids  []int64
		want int
	}{
		{"none", nil, 0},
		{"one", ids[1:2], 2},
		{"two", []int64{ids[2], ids[0]}, 4},
		{"unknown", []int64{9999}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ChannelsOfDevices(ctx, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d channels, want %d", len(got), tt.want)
			}
			for i, c := range got {
				if i > 0 && got[i-1].ID >= c.ID {
					t.Errorf("not ordered by ID: %d then %d", got[i-1].ID, c.ID)
				}
			}
		})
	}
}

// TestDeviceByGBIDUsesIndex pins fix A of docs/perf-gb28181.md: SQLite uses the partial index on
// gb_id only when the query repeats the index's WHERE; without it every registration scans the
// table.
func TestDeviceByGBIDUsesIndex(t *testing.T) {
	db := openTest(t)
	stmt := db.read.Session(&gorm.Session{DryRun: true}).
		Where(whereGBID, "34020000001320000001").Take(&deviceRow{}).Statement
	rows, err := db.readSQL.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+stmt.SQL.String(), stmt.Vars...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX idx_devices_gb_id") {
		t.Errorf("query plan %q, want a search of idx_devices_gb_id", got)
	}
}
