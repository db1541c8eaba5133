package storage

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// keepaliveFlush is how often queued keepalives are written. GB/T 28181 devices send one a
// minute, and the platform's watchdog keeps liveness in memory: the stored LastKeepalive is for
// the API, which may lag by this much.
const keepaliveFlush = time.Second

// keepalives is the write-behind queue of TouchKeepalive. 5,000 devices that came up together
// send their keepalives within a second or two, every minute; one UPDATE each queued behind the
// single writer kept thousands of handlers (and the requests they hold) waiting. Queued, each
// costs a map entry, and a flush writes them all in one transaction.
//
// Writes and reads of a device's row see the queue, so that it changes nothing they can tell:
// a write of the row by ID first takes the device's queued keepalive (setDeviceColumns applies
// it, UpdateDevice and DeleteDevice replace it), and the reads lay it over the row they return.
type keepalives struct {
	log *slog.Logger

	mu      sync.Mutex
	pending map[int64]time.Time // by device ID, the latest keepalive not yet written
	// ids are the IDs of the stored devices, so that a keepalive of a device that does not
	// exist fails at once, as a direct UPDATE would.
	ids map[int64]struct{}

	stop chan struct{}
	done chan struct{}
}

// startKeepalives loads the IDs of the stored devices and starts flushing.
func (db *DB) startKeepalives(ctx context.Context, logger *slog.Logger) error {
	var ids []int64
	if err := db.read.WithContext(ctx).Model(&deviceRow{}).Pluck("id", &ids).Error; err != nil {
		return wrap(err, "device IDs")
	}
	k := &keepalives{log: logger, pending: map[int64]time.Time{}, ids: make(map[int64]struct{}, len(ids)),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, id := range ids {
		k.ids[id] = struct{}{}
	}
	db.keepalives = k
	go db.flushLoop()
	return nil
}

// stopKeepalives stops flushing and writes what is queued.
func (db *DB) stopKeepalives() error {
	k := db.keepalives
	if k == nil {
		return nil
	}
	close(k.stop)
	<-k.done
	return db.flushKeepalives(context.Background())
}

func (db *DB) flushLoop() {
	k := db.keepalives
	defer close(k.done)
	t := time.NewTicker(keepaliveFlush)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
			if err := db.flushKeepalives(context.Background()); err != nil {
				k.log.Error("keepalives not stored; retrying", "err", err)
			}
		}
	}
}

// queue records a keepalive of a stored device, keeping the latest per device. It reports
// false for an unknown device.
func (k *keepalives) queue(id int64, at time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.ids[id]; !ok {
		return false
	}
	if old, ok := k.pending[id]; !ok || at.After(old) {
		k.pending[id] = at
	}
	return true
}

// take removes and returns a device's queued keepalive. The caller must have its turn to write.
func (k *keepalives) take(id int64) (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.pending[id]
	delete(k.pending, id)
	return at, ok
}

// takeAll removes and returns every queued keepalive. The caller must have its turn to write.
func (k *keepalives) takeAll() map[int64]time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.pending) == 0 {
		return nil
	}
	all := k.pending
	k.pending = map[int64]time.Time{}
	return all
}

// requeue puts back keepalives whose write failed, unless newer ones came meanwhile.
func (k *keepalives) requeue(batch map[int64]time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, at := range batch {
		if _, stored := k.ids[id]; !stored {
			continue
		}
		if old, ok := k.pending[id]; !ok || at.After(old) {
			k.pending[id] = at
		}
	}
}

// added and removed keep ids in step with the devices table.
func (k *keepalives) added(id int64) {
	k.mu.Lock()
	k.ids[id] = struct{}{}
	k.mu.Unlock()
}

func (k *keepalives) removed(id int64) {
	k.mu.Lock()
	delete(k.ids, id)
	delete(k.pending, id)
	k.mu.Unlock()
}

// overlay lays a device's queued keepalive over its row as read.
func (k *keepalives) overlay(r *deviceRow) {
	k.mu.Lock()
	at, ok := k.pending[r.ID]
	k.mu.Unlock()
	if !ok {
		return
	}
	r.Online = true
	if r.LastKeepalive == nil || at.After(*r.LastKeepalive) {
		r.LastKeepalive = &at
	}
}

// flushKeepalives writes every queued keepalive in one transaction.
func (db *DB) flushKeepalives(ctx context.Context) error {
	k := db.keepalives
	var batch map[int64]time.Time
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		// Taken inside the turn to write: a write of a device's row either took its
		// keepalive before, or comes after this commit.
		batch = k.takeAll()
		ids := slices.Sorted(maps.Keys(batch))
		for chunk := range slices.Chunk(ids, idBatch) {
			if err := tx.Exec(keepaliveSQL(len(chunk)), keepaliveArgs(chunk, batch)...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if batch != nil {
			k.requeue(batch)
		}
		return wrap(err, "store %d keepalives", len(batch))
	}
	return nil
}

// keepaliveSQL is the UPDATE that stores n keepalives: each device's own time through a CASE,
// so that one statement (of 3n+1 variables) does what n would.
func keepaliveSQL(n int) string {
	var b strings.Builder
	b.WriteString("UPDATE devices SET online = ?, last_keepalive = CASE id")
	b.WriteString(strings.Repeat(" WHEN ? THEN ?", n))
	b.WriteString(" END WHERE id IN (")
	b.WriteString(strings.TrimSuffix(strings.Repeat("?, ", n), ", "))
	b.WriteString(")")
	return b.String()
}

// keepaliveArgs are the variables of keepaliveSQL for these IDs.
func keepaliveArgs(ids []int64, at map[int64]time.Time) []any {
	args := make([]any, 0, 1+3*len(ids))
	args = append(args, true)
	for _, id := range ids {
		args = append(args, id, nullTime(at[id]))
	}
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}
