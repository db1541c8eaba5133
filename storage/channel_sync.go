package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// Batch sizes of statements that carry one bound variable per ID or per column of a row. SQLite
// allows 32766 variables per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32); these stay far
// below it while already amortising the per-statement cost, which is what makes a 10,000-channel
// catalog cheap to store.
const (
	idBatch     = 500
	upsertBatch = 500
)

// syncColumns are the channel columns an upsert writes, in the order of syncArgs.
var syncColumns = []string{
	"device_id", "name", "url", "always_on", "created_at", "updated_at",
	"gb_id", "parent_id", "manufacturer", "model", "status", "ptz_type",
	"civil_code", "address", "longitude", "latitude", "kind",
}

// catalogColumns are the columns a catalog owns: an upsert that hits an existing channel
// overwrites these and keeps the rest (ID, URL, AlwaysOn, CreatedAt), which belong to the
// platform or the user.
var catalogColumns = []string{
	"name", "parent_id", "manufacturer", "model", "status", "ptz_type",
	"civil_code", "address", "longitude", "latitude", "kind", "updated_at",
}

// syncArgs appends r's values in the order of syncColumns.
func syncArgs(args []any, r *channelRow) []any {
	return append(args,
		r.DeviceID, r.Name, r.URL, r.AlwaysOn, r.CreatedAt, r.UpdatedAt,
		r.GBID, r.ParentID, r.Manufacturer, r.Model, r.Status, r.PTZType,
		r.CivilCode, r.Address, r.Longitude, r.Latitude, r.Kind)
}

// sameCatalog reports whether a and b agree on every column a catalog owns but updated_at.
func sameCatalog(a, b *channelRow) bool {
	return a.Name == b.Name && a.ParentID == b.ParentID && a.Manufacturer == b.Manufacturer &&
		a.Model == b.Model && a.Status == b.Status && a.PTZType == b.PTZType &&
		a.CivilCode == b.CivilCode && a.Address == b.Address &&
		a.Longitude == b.Longitude && a.Latitude == b.Latitude && a.Kind == b.Kind
}

// upsertSQL returns the statement that upserts n channels and returns the ID of each.
//
// The conflict target repeats the WHERE of the partial unique index idx_channels_device_gb_id:
// SQLite (and PostgreSQL) only match a partial index when the target says which rows it covers.
// RETURNING needs SQLite 3.35.
func upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO channels (")
	b.WriteString(strings.Join(syncColumns, ", "))
	b.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(syncColumns)), ", ") + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT (device_id, gb_id) WHERE gb_id <> '' DO UPDATE SET ")
	for i, c := range catalogColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = excluded.%s", c, c)
	}
	b.WriteString(" RETURNING id, gb_id")
	return b.String()
}

// SyncChannels stores the device's catalog: it inserts the channels whose GBID the device does
// not have yet and updates those it has, in one transaction, and with removeMissing it also
// deletes the device's GB channels (those with a GBID) that chans does not list. Pass
// removeMissing only for a complete catalog, not for one cut short by a timeout.
//
// Every channel needs a GBID; when two share one, the later wins. An existing channel keeps its
// ID, CreatedAt, URL and AlwaysOn, and gets the catalog's values for the other fields, Name
// included. Only channels whose catalog fields changed are written and counted as updated, so
// an unchanged catalog costs no writes and keeps every UpdatedAt. After a successful call each
// of chans holds the stored ID, DeviceID, timestamps, URL, AlwaysOn and Kind.
//
// It returns device.ErrNotFound when no device has deviceID.
func (db *DB) SyncChannels(ctx context.Context, deviceID int64, chans []*device.Channel, removeMissing bool) (added, updated, removed int, err error) {
	fail := func(err error) (int, int, int, error) {
		return 0, 0, 0, wrap(err, "sync channels of device %d", deviceID)
	}
	// One row per GBID, in the order of first appearance, with the last values given.
	incoming := make(map[string]*channelRow, len(chans))
	order := make([]string, 0, len(chans))
	for i, c := range chans {
		switch {
		case c == nil:
			return fail(fmt.Errorf("channel %d is nil", i))
		case c.GBID == "":
			return fail(fmt.Errorf("channel %d (%q) has no GB ID", i, c.Name))
		}
		if _, dup := incoming[c.GBID]; !dup {
			order = append(order, c.GBID)
		}
		r := newChannelRow(c)
		r.ID, r.DeviceID = 0, deviceID
		incoming[c.GBID] = r
	}

	now := db.now()
	// stored ends up holding the row of every GBID in chans as it is after the commit.
	stored := make(map[string]*channelRow, len(order))
	err = db.transaction(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&deviceRow{}).Where("id = ?", deviceID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return gorm.ErrRecordNotFound
		}

		var existing []*channelRow
		if err := tx.Where("device_id = ? AND gb_id <> ''", deviceID).Find(&existing).Error; err != nil {
			return err
		}
		byGBID := make(map[string]*channelRow, len(existing))
		for _, r := range existing {
			byGBID[r.GBID] = r
		}

		var write []*channelRow
		for _, gbID := range order {
			r := *incoming[gbID]
			old, ok := byGBID[gbID]
			switch {
			case !ok:
				r.CreatedAt, r.UpdatedAt = now, now
				added++
			case sameCatalog(old, &r):
				stored[gbID] = old
				continue
			default:
				// The upsert keeps these columns; the copy back must show what is stored.
				r.ID, r.URL, r.AlwaysOn, r.CreatedAt, r.UpdatedAt = old.ID, old.URL, old.AlwaysOn, old.CreatedAt, now
				updated++
			}
			stored[gbID] = &r
			write = append(write, &r)
		}

		for batch := range slices.Chunk(write, upsertBatch) {
			args := make([]any, 0, len(batch)*len(syncColumns))
			for _, r := range batch {
				args = syncArgs(args, r)
			}
			if err := upsertReturning(tx, upsertSQL(len(batch)), args, len(batch), stored); err != nil {
				return err
			}
		}

		if !removeMissing {
			return nil
		}
		var gone []int64
		for _, r := range existing {
			if _, ok := incoming[r.GBID]; !ok {
				gone = append(gone, r.ID)
			}
		}
		for batch := range slices.Chunk(gone, idBatch) {
			res := tx.Where("id IN ?", batch).Delete(&channelRow{})
			if res.Error != nil {
				return res.Error
			}
			removed += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}

	for _, c := range chans {
		r := stored[c.GBID]
		c.ID, c.DeviceID, c.CreatedAt, c.UpdatedAt = r.ID, r.DeviceID, r.CreatedAt, r.UpdatedAt
		c.URL, c.AlwaysOn, c.Kind = r.URL, r.AlwaysOn, r.Kind
	}
	return added, updated, removed, nil
}

// upsertReturning runs one upsert statement of n rows and records the returned IDs in stored by
// GBID. SQLite does not promise that RETURNING rows come in VALUES order, hence the GBID.
func upsertReturning(tx *gorm.DB, query string, args []any, n int, stored map[string]*channelRow) (err error) {
	rows, err := tx.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	got := 0
	for rows.Next() {
		var (
			id   int64
			gbID string
		)
		if err := rows.Scan(&id, &gbID); err != nil {
			return err
		}
		r, ok := stored[gbID]
		if !ok {
			return fmt.Errorf("upsert returned unknown GB ID %q", gbID)
		}
		r.ID = id
		got++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if got != n {
		// Every row is inserted or updated, so each must come back; otherwise a channel would
		// be handed back with ID 0.
		return fmt.Errorf("upsert of %d channels returned %d", n, got)
	}
	return nil
}
