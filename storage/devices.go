package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// now returns the time stamped on rows, from the same clock gorm uses.
func (db *DB) now() time.Time {
	return db.gorm.NowFunc()
}

// CreateDevice stores d and its channels in one transaction, so that a device never exists
// without the channels it was added with. It fills the IDs, each channel's DeviceID and all
// timestamps.
func (db *DB) CreateDevice(ctx context.Context, d *device.Device, chans []*device.Channel) error {
	if d == nil {
		return errors.New("storage: create device: nil device")
	}
	now := db.now()
	drow := newDeviceRow(d)
	drow.CreatedAt, drow.UpdatedAt = now, now
	crows := make([]*channelRow, len(chans))
	for i, c := range chans {
		if c == nil {
			return errors.New("storage: create device: nil channel")
		}
		crows[i] = newChannelRow(c)
		crows[i].CreatedAt, crows[i].UpdatedAt = now, now
	}

	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(drow).Error; err != nil {
			return err
		}
		if len(crows) == 0 {
			return nil
		}
		for _, r := range crows {
			r.DeviceID = drow.ID
		}
		return tx.Create(crows).Error
	})
	if err != nil {
		return wrap(err, "create device %q", d.Name)
	}

	// Copy back only after the commit, so a failed call leaves the caller's values untouched.
	d.ID, d.CreatedAt, d.UpdatedAt = drow.ID, drow.CreatedAt, drow.UpdatedAt
	for i, c := range chans {
		c.ID, c.DeviceID, c.CreatedAt, c.UpdatedAt = crows[i].ID, crows[i].DeviceID, crows[i].CreatedAt, crows[i].UpdatedAt
	}
	return nil
}

// Device returns the device with this ID, or device.ErrNotFound.
func (db *DB) Device(ctx context.Context, id int64) (*device.Device, error) {
	var row deviceRow
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(err, "device %d", id)
	}
	return row.toDomain(), nil
}

// ListDevices returns one page of devices ordered by ID, and the number of devices matching
// opts.Type across all pages.
func (db *DB) ListDevices(ctx context.Context, opts device.ListOptions) ([]*device.Device, int64, error) {
	if opts.Offset < 0 || opts.Limit < 0 {
		return nil, 0, errors.New("storage: list devices: offset and limit must not be negative")
	}
	filter := func(tx *gorm.DB) *gorm.DB {
		if opts.Type != "" {
			return tx.Where("type = ?", string(opts.Type))
		}
		return tx
	}

	var total int64
	if err := db.gorm.WithContext(ctx).Model(&deviceRow{}).Scopes(filter).Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count devices")
	}

	q := db.gorm.WithContext(ctx).Scopes(filter).Order("id")
	if opts.Offset > 0 {
		q = q.Offset(opts.Offset)
	}
	if opts.Limit > 0 {
		q = q.Limit(opts.Limit)
	}
	var rows []deviceRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, 0, wrap(err, "list devices")
	}
	out := make([]*device.Device, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, total, nil
}

// UpdateDevice stores d's Type, Name and URL and sets its UpdatedAt; CreatedAt is kept.
// It returns device.ErrNotFound when no device has d.ID.
func (db *DB) UpdateDevice(ctx context.Context, d *device.Device) error {
	if d == nil {
		return errors.New("storage: update device: nil device")
	}
	now := db.now()
	res := db.gorm.WithContext(ctx).Model(&deviceRow{}).Where("id = ?", d.ID).Updates(map[string]any{
		"type":       string(d.Type),
		"name":       d.Name,
		"url":        d.URL,
		"updated_at": now,
	})
	if res.Error != nil {
		return wrap(res.Error, "update device %d", d.ID)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "update device %d", d.ID)
	}
	d.UpdatedAt = now
	return nil
}

// DeleteDevice deletes the device and, through the foreign key, its channels. It returns
// device.ErrNotFound when no device has this ID.
func (db *DB) DeleteDevice(ctx context.Context, id int64) error {
	res := db.gorm.WithContext(ctx).Where("id = ?", id).Delete(&deviceRow{})
	if res.Error != nil {
		return wrap(res.Error, "delete device %d", id)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "delete device %d", id)
	}
	return nil
}
