package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// Channels returns the channels of one device ordered by ID, or of all devices when deviceID
// is 0. An unknown device has no channels, so it yields an empty list rather than an error.
func (db *DB) Channels(ctx context.Context, deviceID int64) ([]*device.Channel, error) {
	q := db.gorm.WithContext(ctx).Order("id")
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

// Channel returns the channel with this ID, or device.ErrNotFound.
func (db *DB) Channel(ctx context.Context, id int64) (*device.Channel, error) {
	var row channelRow
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(err, "channel %d", id)
	}
	return row.toDomain(), nil
}

// UpdateChannel stores c's Name, URL and AlwaysOn and sets its UpdatedAt; the channel stays
// with its device. It returns device.ErrNotFound when no channel has c.ID.
func (db *DB) UpdateChannel(ctx context.Context, c *device.Channel) error {
	if c == nil {
		return errors.New("storage: update channel: nil channel")
	}
	now := db.now()
	res := db.gorm.WithContext(ctx).Model(&channelRow{}).Where("id = ?", c.ID).Updates(map[string]any{
		"name":       c.Name,
		"url":        c.URL,
		"always_on":  c.AlwaysOn,
		"updated_at": now,
	})
	if res.Error != nil {
		return wrap(res.Error, "update channel %d", c.ID)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "update channel %d", c.ID)
	}
	c.UpdatedAt = now
	return nil
}
