package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// CreateEvent stores e and fills its ID and CreatedAt, and its Time with CreatedAt when zero.
// An event of a device that does not exist fails (the foreign key), so it cannot outlive one.
func (db *DB) CreateEvent(ctx context.Context, e *device.Event) error {
	if e == nil {
		return errors.New("storage: create event: nil event")
	}
	now := db.now()
	at := now
	if !e.Time.IsZero() {
		at = e.Time.UTC()
	}
	row := &eventRow{
		DeviceID: e.DeviceID, ChannelGBID: e.ChannelGBID, Kind: e.Kind, Priority: e.Priority, Method: e.Method,
		AlarmType: e.AlarmType, Description: e.Description, Longitude: e.Longitude, Latitude: e.Latitude,
		Time: at, CreatedAt: now,
	}
	if err := db.writing(ctx, func(w *gorm.DB) error { return w.Create(row).Error }); err != nil {
		return wrap(err, "create %s event of device %d", e.Kind, e.DeviceID)
	}
	e.ID, e.CreatedAt = row.ID, row.CreatedAt
	if e.Time.IsZero() {
		e.Time = row.Time
	}
	return nil
}

// ListEvents returns one page of the events matching f, newest first (by Time, then by ID),
// and the number of matching events across all pages.
func (db *DB) ListEvents(ctx context.Context, f device.EventFilter) ([]*device.Event, int64, error) {
	if f.Offset < 0 || f.Limit < 0 {
		return nil, 0, errors.New("storage: list events: offset and limit must not be negative")
	}
	filter := func(tx *gorm.DB) *gorm.DB {
		if f.DeviceID != 0 {
			tx = tx.Where("device_id = ?", f.DeviceID)
		}
		if f.Kind != "" {
			tx = tx.Where("kind = ?", f.Kind)
		}
		// Stored times are UTC text; the bounds must be too for the comparison to hold.
		if !f.Since.IsZero() {
			tx = tx.Where("time >= ?", f.Since.UTC())
		}
		if !f.Until.IsZero() {
			tx = tx.Where("time < ?", f.Until.UTC())
		}
		return tx
	}

	var total int64
	if err := db.read.WithContext(ctx).Model(&eventRow{}).Scopes(filter).Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count events")
	}
	q := db.read.WithContext(ctx).Scopes(filter).Order("time DESC, id DESC")
	if f.Offset > 0 {
		q = q.Offset(f.Offset)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []eventRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "list events")
	}
	out := make([]*device.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, total, nil
}
