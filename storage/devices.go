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
// without the channels it was added with. It fills the IDs, each channel's DeviceID, all
// timestamps and the defaults of empty fields (Device.StreamTransport, Channel.Kind). A GBID
// that another device already has yields device.ErrConflict.
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

	var err error
	if len(crows) == 0 {
		// One statement, atomic by itself: the registration of a new GB device.
		err = db.writing(ctx, func(w *gorm.DB) error { return w.Create(drow).Error })
	} else {
		err = db.transaction(ctx, func(tx *gorm.DB) error {
			if err := tx.Create(drow).Error; err != nil {
				return err
			}
			for _, r := range crows {
				r.DeviceID = drow.ID
			}
			return tx.Create(crows).Error
		})
	}
	if err != nil {
		return wrap(err, "create device %q", d.Name)
	}

	db.keepalives.added(drow.ID)
	// Copy back only after the commit, so a failed call leaves the caller's values untouched.
	d.ID, d.CreatedAt, d.UpdatedAt, d.StreamTransport = drow.ID, drow.CreatedAt, drow.UpdatedAt, drow.StreamTransport
	for i, c := range chans {
		c.ID, c.DeviceID, c.CreatedAt, c.UpdatedAt = crows[i].ID, crows[i].DeviceID, crows[i].CreatedAt, crows[i].UpdatedAt
		c.Kind = crows[i].Kind
	}
	return nil
}

// Device returns the device with this ID, or device.ErrNotFound.
func (db *DB) Device(ctx context.Context, id int64) (*device.Device, error) {
	var row deviceRow
	if err := db.read.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(err, "device %d", id)
	}
	db.keepalives.overlay(&row)
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
	if err := db.read.WithContext(ctx).Model(&deviceRow{}).Scopes(filter).Count(&total).Error; err != nil {
		return nil, 0, wrap(err, "count devices")
	}

	q := db.read.WithContext(ctx).Scopes(filter).Order("id")
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
		db.keepalives.overlay(&rows[i])
		out[i] = rows[i].toDomain()
	}
	return out, total, nil
}

// UpdateDevice stores every field of d except CreatedAt and sets its UpdatedAt (and the default
// of an empty StreamTransport). It returns device.ErrNotFound when no device has d.ID and
// device.ErrConflict when another device has d.GBID.
//
// It writes the whole record, liveness included, so a read-modify-write here can undo a
// keepalive that landed in between; code that only tracks liveness uses SetDeviceOnline,
// TouchKeepalive and SetDevicePosition, which write just their columns.
func (db *DB) UpdateDevice(ctx context.Context, d *device.Device) error {
	if d == nil {
		return errors.New("storage: update device: nil device")
	}
	now := db.now()
	r := newDeviceRow(d)
	var res *gorm.DB
	err := db.writing(ctx, func(w *gorm.DB) error {
		// The record written replaces a queued keepalive, as it would replace a written one.
		db.keepalives.take(d.ID)
		res = w.Model(&deviceRow{}).Where("id = ?", d.ID).Updates(map[string]any{
			"type":             r.Type,
			"name":             r.Name,
			"url":              r.URL,
			"updated_at":       now,
			"gb_id":            r.GBID,
			"manufacturer":     r.Manufacturer,
			"model":            r.Model,
			"firmware":         r.Firmware,
			"transport":        r.Transport,
			"remote_addr":      r.RemoteAddr,
			"charset":          r.Charset,
			"online":           r.Online,
			"registered_at":    r.RegisteredAt,
			"last_keepalive":   r.LastKeepalive,
			"expires_at":       r.ExpiresAt,
			"password":         r.Password,
			"stream_transport": r.StreamTransport,
			"longitude":        r.Longitude,
			"latitude":         r.Latitude,
			"position_at":      r.PositionAt,
		})
		return res.Error
	})
	if err != nil {
		return wrap(err, "update device %d", d.ID)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "update device %d", d.ID)
	}
	d.UpdatedAt, d.StreamTransport = now, r.StreamTransport
	return nil
}

// DeleteDevice deletes the device and, through the foreign key, its channels. It returns
// device.ErrNotFound when no device has this ID.
func (db *DB) DeleteDevice(ctx context.Context, id int64) error {
	var res *gorm.DB
	err := db.writing(ctx, func(w *gorm.DB) error {
		res = w.Where("id = ?", id).Delete(&deviceRow{})
		if res.Error == nil {
			db.keepalives.removed(id)
		}
		return res.Error
	})
	if err != nil {
		return wrap(err, "delete device %d", id)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "delete device %d", id)
	}
	return nil
}

// whereGBID selects a device by GB ID. The gb_id index is partial, leaving out the empty IDs of
// non-GB devices: SQLite only uses it when the query repeats the index's condition; without it
// every lookup scans the table.
const whereGBID = "gb_id = ? AND gb_id <> ''"

// DeviceByGBID returns the device with this GB ID, or device.ErrNotFound (also for an empty ID,
// which non-GB devices share).
func (db *DB) DeviceByGBID(ctx context.Context, gbID string) (*device.Device, error) {
	if gbID == "" {
		return nil, wrap(gorm.ErrRecordNotFound, "device with GB ID %q", gbID)
	}
	var row deviceRow
	if err := db.read.WithContext(ctx).Where(whereGBID, gbID).Take(&row).Error; err != nil {
		return nil, wrap(err, "device with GB ID %q", gbID)
	}
	db.keepalives.overlay(&row)
	return row.toDomain(), nil
}

// OnlineGBDevices returns the GB28181 devices marked online, ordered by ID, for the watchdog
// that marks them offline when their keepalives stop.
func (db *DB) OnlineGBDevices(ctx context.Context) ([]*device.Device, error) {
	// A queued keepalive can bring a device online: the query has to see it.
	if err := db.flushKeepalives(ctx); err != nil {
		return nil, err
	}
	var rows []deviceRow
	err := db.read.WithContext(ctx).Where("type = ? AND online", string(device.TypeGB28181)).Order("id").Find(&rows).Error
	if err != nil {
		return nil, wrap(err, "online GB28181 devices")
	}
	out := make([]*device.Device, len(rows))
	for i := range rows {
		db.keepalives.overlay(&rows[i])
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// SetDeviceOnline marks a device online or offline. Like the other liveness setters it leaves
// UpdatedAt alone: that tracks changes to the device record, and keepalives from thousands of
// devices are not such changes. It returns device.ErrNotFound when no device has this ID.
func (db *DB) SetDeviceOnline(ctx context.Context, id int64, online bool) error {
	return db.setDeviceColumns(ctx, id, "set online of device", map[string]any{"online": online})
}

// TouchKeepalive records a keepalive received at at, which also marks the device online. It
// returns device.ErrNotFound when no device has this ID.
//
// The write is queued and done within keepaliveFlush, together with the other devices'; the
// reads and writes of this package see it at once (see keepalives).
func (db *DB) TouchKeepalive(_ context.Context, id int64, at time.Time) error {
	if !db.keepalives.queue(id, at) {
		return wrap(gorm.ErrRecordNotFound, "keepalive of device %d", id)
	}
	return nil
}

// SetDevicePosition records the position a device reported at at (MobilePosition). It returns
// device.ErrNotFound when no device has this ID.
func (db *DB) SetDevicePosition(ctx context.Context, id int64, lon, lat float64, at time.Time) error {
	return db.setDeviceColumns(ctx, id, "set position of device", map[string]any{
		"longitude":   lon,
		"latitude":    lat,
		"position_at": nullTime(at),
	})
}

// setDeviceColumns writes cols to the device with this ID, without touching UpdatedAt.
func (db *DB) setDeviceColumns(ctx context.Context, id int64, what string, cols map[string]any) error {
	// UpdateColumns skips gorm's automatic updated_at.
	var res *gorm.DB
	err := db.writing(ctx, func(w *gorm.DB) error {
		// A queued keepalive came before this write: it goes first, in the same statement.
		if at, ok := db.keepalives.take(id); ok {
			if _, set := cols["last_keepalive"]; !set {
				cols["last_keepalive"] = nullTime(at)
			}
			if _, set := cols["online"]; !set {
				cols["online"] = true
			}
		}
		res = w.Model(&deviceRow{}).Where("id = ?", id).UpdateColumns(cols)
		return res.Error
	})
	if err != nil {
		return wrap(err, "%s %d", what, id)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "%s %d", what, id)
	}
	return nil
}
