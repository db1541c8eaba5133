package storage

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// Channels returns the channels of one device ordered by ID, or of all devices when deviceID
// is 0. An unknown device has no channels, so it yields an empty list rather than an error.
func (db *DB) Channels(ctx context.Context, deviceID int64) ([]*device.Channel, error) {
	q := db.read.WithContext(ctx).Order("id")
	if deviceID != 0 {
		q = q.Where("device_id = ?", deviceID)
	}
	var rows []channelRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, wrap(err, "channels of device %d", deviceID)
	}
	out := make([]*device.Channel, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// ChannelsOfDevices returns the channels of these devices ordered by ID, for a page of the device
// list: reading all channels (Channels with 0) to sum up one page costs time in proportion to
// every channel stored. Unknown IDs have no channels.
func (db *DB) ChannelsOfDevices(ctx context.Context, deviceIDs []int64) ([]*device.Channel, error) {
	var rows []channelRow
	for batch := range slices.Chunk(deviceIDs, idBatch) {
		var part []channelRow
		if err := db.read.WithContext(ctx).Where("device_id IN ?", batch).Order("id").Find(&part).Error; err != nil {
			return nil, wrap(err, "channels of %d devices", len(deviceIDs))
		}
		rows = append(rows, part...)
	}
	if len(deviceIDs) > idBatch {
		slices.SortFunc(rows, func(a, b channelRow) int { return cmp.Compare(a.ID, b.ID) })
	}
	out := make([]*device.Channel, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// Channel returns the channel with this ID, or device.ErrNotFound.
func (db *DB) Channel(ctx context.Context, id int64) (*device.Channel, error) {
	var row channelRow
	if err := db.read.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(err, "channel %d", id)
	}
	return row.toDomain(), nil
}

// UpdateChannel stores every field of c except DeviceID and CreatedAt (the channel stays with
// its device), sets its UpdatedAt and writes an empty Kind as the default. It returns
// device.ErrNotFound when no channel has c.ID and device.ErrConflict when another channel of
// the device has c.GBID.
func (db *DB) UpdateChannel(ctx context.Context, c *device.Channel) error {
	if c == nil {
		return errors.New("storage: update channel: nil channel")
	}
	now := db.now()
	r := newChannelRow(c)
	var res *gorm.DB
	err := db.writing(ctx, func(w *gorm.DB) error {
		res = w.Model(&channelRow{}).Where("id = ?", c.ID).Updates(map[string]any{
			"name":         r.Name,
			"url":          r.URL,
			"always_on":    r.AlwaysOn,
			"updated_at":   now,
			"gb_id":        r.GBID,
			"parent_id":    r.ParentID,
			"manufacturer": r.Manufacturer,
			"model":        r.Model,
			"status":       r.Status,
			"ptz_type":     r.PTZType,
			"civil_code":   r.CivilCode,
			"address":      r.Address,
			"longitude":    r.Longitude,
			"latitude":     r.Latitude,
			"kind":         r.Kind,
		})
		return res.Error
	})
	if err != nil {
		return wrap(err, "update channel %d", c.ID)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "update channel %d", c.ID)
	}
	c.UpdatedAt, c.Kind = now, r.Kind
	return nil
}

// ChannelByGBID returns the channel of the device with this catalog ID, or device.ErrNotFound
// (also for an empty ID, which non-GB channels share).
func (db *DB) ChannelByGBID(ctx context.Context, deviceID int64, gbID string) (*device.Channel, error) {
	if gbID == "" {
		return nil, wrap(gorm.ErrRecordNotFound, "channel %q of device %d", gbID, deviceID)
	}
	var row channelRow
	err := db.read.WithContext(ctx).Where("device_id = ? AND gb_id = ? AND gb_id <> ''", deviceID, gbID).Take(&row).Error
	if err != nil {
		return nil, wrap(err, "channel %q of device %d", gbID, deviceID)
	}
	return row.toDomain(), nil
}

// DeleteChannelsByGBID deletes the device's channels with these catalog IDs (a Catalog NOTIFY
// with Event DEL) in one transaction and returns how many it deleted; unknown IDs are skipped.
func (db *DB) DeleteChannelsByGBID(ctx context.Context, deviceID int64, gbIDs []string) (int, error) {
	n := 0
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		for batch := range slices.Chunk(gbIDs, idBatch) {
			res := tx.Where("device_id = ? AND gb_id <> '' AND gb_id IN ?", deviceID, batch).Delete(&channelRow{})
			if res.Error != nil {
				return res.Error
			}
			n += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err, "delete channels of device %d", deviceID)
	}
	return n, nil
}

// SetChannelsStatus sets the Status of the device's channels with these catalog IDs, or of all
// its channels when gbIDs is nil (the device went offline); an empty non-nil gbIDs changes
// nothing. Unknown IDs are skipped. UpdatedAt changes only on channels whose status changed.
func (db *DB) SetChannelsStatus(ctx context.Context, deviceID int64, gbIDs []string, status string) error {
	now := db.now()
	set := map[string]any{"status": status, "updated_at": now}
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		q := func() *gorm.DB {
			return tx.Model(&channelRow{}).Where("device_id = ? AND status <> ?", deviceID, status)
		}
		if gbIDs == nil {
			return q().UpdateColumns(set).Error
		}
		for batch := range slices.Chunk(gbIDs, idBatch) {
			if err := q().Where("gb_id <> '' AND gb_id IN ?", batch).UpdateColumns(set).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "set status of channels of device %d", deviceID)
}
