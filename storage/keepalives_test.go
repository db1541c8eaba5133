package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
)

// storedKeepalive reads what the devices table holds, past the queue.
func storedKeepalive(t *testing.T, db *DB, id int64) (online bool, at time.Time) {
	t.Helper()
	var row deviceRow
	if err := db.gorm.Where("id = ?", id).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.Online, timeOf(row.LastKeepalive)
}

func TestKeepaliveQueue(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	setup := func(t *testing.T) (*DB, *device.Device) {
		db := openTest(t)
		d := newGBDevice("34020000001320000001")
		d.Online, d.LastKeepalive = false, at.Add(-time.Hour)
		if err := db.CreateDevice(t.Context(), d, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchKeepalive(t.Context(), d.ID, at); err != nil {
			t.Fatal(err)
		}
		return db, d
	}

	t.Run("seen at once, written by the flush", func(t *testing.T) {
		db, d := setup(t)
		got, err := db.Device(t.Context(), d.ID)
		if err != nil || !got.Online || !got.LastKeepalive.Equal(at) {
			t.Fatalf("Device = %+v, %v; want online with the keepalive", got, err)
		}
		byGB, err := db.DeviceByGBID(t.Context(), d.GBID)
		if err != nil || !byGB.Online || !byGB.LastKeepalive.Equal(at) {
			t.Errorf("DeviceByGBID = %+v, %v", byGB, err)
		}
		list, _, err := db.ListDevices(t.Context(), device.ListOptions{})
		if err != nil || len(list) != 1 || !list[0].LastKeepalive.Equal(at) {
			t.Errorf("ListDevices = %v, %v", list, err)
		}
		if online, _ := storedKeepalive(t, db, d.ID); online {
			t.Error("written before the flush")
		}
		if err := db.flushKeepalives(t.Context()); err != nil {
			t.Fatal(err)
		}
		if online, stored := storedKeepalive(t, db, d.ID); !online || !stored.Equal(at) {
			t.Errorf("after the flush: online %v, last keepalive %v", online, stored)
		}
	})

	t.Run("a later offline wins", func(t *testing.T) {
		db, d := setup(t)
		if err := db.SetDeviceOnline(t.Context(), d.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := db.flushKeepalives(t.Context()); err != nil {
			t.Fatal(err)
		}
		if online, stored := storedKeepalive(t, db, d.ID); online || !stored.Equal(at) {
			t.Errorf("online %v, last keepalive %v; want offline with the keepalive kept", online, stored)
		}
	})

	t.Run("a later record wins", func(t *testing.T) {
		db, d := setup(t)
		d.Name = "renamed" // d as read before the keepalive: offline, the old keepalive
		if err := db.UpdateDevice(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		if err := db.flushKeepalives(t.Context()); err != nil {
			t.Fatal(err)
		}
		got, err := db.Device(t.Context(), d.ID)
		if err != nil || got.Online || !got.LastKeepalive.Equal(d.LastKeepalive) || got.Name != "renamed" {
			t.Errorf("Device = %+v, %v; want the record as written", got, err)
		}
	})

	t.Run("deleted device", func(t *testing.T) {
		db, d := setup(t)
		if err := db.DeleteDevice(t.Context(), d.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchKeepalive(t.Context(), d.ID, at); !errors.Is(err, device.ErrNotFound) {
			t.Errorf("TouchKeepalive of a deleted device: %v, want ErrNotFound", err)
		}
		if err := db.flushKeepalives(t.Context()); err != nil {
			t.Errorf("flush: %v", err)
		}
	})

	t.Run("written by Close", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(t.Context(), Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		d := newGBDevice("34020000001320000001")
		if err := db.CreateDevice(t.Context(), d, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchKeepalive(t.Context(), d.ID, at); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db, err = Open(t.Context(), Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if online, stored := storedKeepalive(t, db, d.ID); !online || !stored.Equal(at) {
			t.Errorf("after reopening: online %v, last keepalive %v", online, stored)
		}
	})
}

// TestKeepaliveFlushMany stores a keepalive wave larger than one statement's batch.
func TestKeepaliveFlushMany(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	const n = idBatch + 123
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ids := make([]int64, n)
	for i := range n {
		d := &device.Device{Type: device.TypeGB28181, Name: "d", GBID: fmt.Sprintf("340200000013200%05d", i)}
		if err := db.CreateDevice(ctx, d, nil); err != nil {
			t.Fatal(err)
		}
		ids[i] = d.ID
		if err := db.TouchKeepalive(ctx, d.ID, at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.flushKeepalives(ctx); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if online, stored := storedKeepalive(t, db, id); !online || !stored.Equal(at.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("device %d: online %v, last keepalive %v", id, online, stored)
		}
	}
}

// BenchmarkKeepaliveWave measures a wave of 5,000 keepalives (devices that came up together):
// queued then flushed in one transaction, against one UPDATE each as before the queue.
func BenchmarkKeepaliveWave(b *testing.B) {
	db, err := Open(b.Context(), Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := b.Context()
	const n = 5000
	ids := make([]int64, n)
	for i := range n {
		d := &device.Device{Type: device.TypeGB28181, Name: "d", GBID: fmt.Sprintf("340200000013200%05d", i)}
		if err := db.CreateDevice(ctx, d, nil); err != nil {
			b.Fatal(err)
		}
		ids[i] = d.ID
	}
	b.Run("queued", func(b *testing.B) {
		for b.Loop() {
			now := time.Now()
			for _, id := range ids {
				if err := db.TouchKeepalive(ctx, id, now); err != nil {
					b.Fatal(err)
				}
			}
			if err := db.flushKeepalives(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update-each", func(b *testing.B) {
		for b.Loop() {
			now := time.Now()
			for _, id := range ids {
				err := db.setDeviceColumns(ctx, id, "keepalive of device", map[string]any{
					"last_keepalive": nullTime(now), "online": true})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
