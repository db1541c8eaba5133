package storage

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// onvifDeviceColumns returns the device columns a probe of an ONVIF camera owns: its address,
// account, identity and clock. Name, type, liveness and the GB28181 columns are left alone.
func onvifDeviceColumns(r *deviceRow) map[string]any {
	return map[string]any{
		"name":            r.Name,
		"xaddr":           r.XAddr,
		"username":        r.Username,
		"password":        r.Password,
		"manufacturer":    r.Manufacturer,
		"model":           r.Model,
		"firmware":        r.Firmware,
		"serial":          r.Serial,
		"clock_offset_ms": r.ClockOffsetMS,
	}
}

// profileColumns returns the channel columns a media profile owns. The name and always_on
// belong to the user once the channel exists, the status to the reachability poll.
func profileColumns(r *channelRow) map[string]any {
	return map[string]any{
		"url":           r.URL,
		"profile_token": r.ProfileToken,
		"role":          r.Role,
		"codec":         r.Codec,
		"width":         r.Width,
		"height":        r.Height,
		"fps":           r.FPS,
		"snapshot_uri":  r.SnapshotURI,
		"ptz":           r.PTZ,
	}
}

// SyncONVIFDevice stores what a new probe of an ONVIF camera read, in one transaction: the
// device's name, address, account, identity and clock offset (as onvifDeviceColumns lists), the
// channels of new profiles (add, whose IDs, DeviceID, timestamps and Kind it fills), the profile
// fields and URL of kept ones (update: name and always_on stay as the user set them) and the
// deletion of the channels whose profile is gone (remove, by ID). It returns device.ErrNotFound
// when the device does not exist and device.ErrConflict when an added profile token is taken.
func (db *DB) SyncONVIFDevice(ctx context.Context, d *device.Device, add, update []*device.Channel, remove []int64) error {
	if d == nil {
		return errors.New("storage: sync onvif device: nil device")
	}
	now := db.now()
	cols := onvifDeviceColumns(newDeviceRow(d))
	cols["updated_at"] = now
	crows := make([]*channelRow, len(add))
	for i, c := range add {
		crows[i] = newChannelRow(c)
		crows[i].DeviceID, crows[i].CreatedAt, crows[i].UpdatedAt = d.ID, now, now
	}
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&deviceRow{}).Where("id = ?", d.ID).UpdateColumns(cols)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		for batch := range slices.Chunk(remove, idBatch) {
			if err := tx.Where("device_id = ? AND id IN ?", d.ID, batch).Delete(&channelRow{}).Error; err != nil {
				return err
			}
		}
		for _, c := range update {
			set := profileColumns(newChannelRow(c))
			set["updated_at"] = now
			if err := tx.Model(&channelRow{}).Where("id = ? AND device_id = ?", c.ID, d.ID).UpdateColumns(set).Error; err != nil {
				return err
			}
		}
		if len(crows) > 0 {
			return tx.Create(crows).Error
		}
		return nil
	})
	if err != nil {
		return wrap(err, "sync onvif device %d", d.ID)
	}
	d.UpdatedAt = now
	for i, c := range add {
		c.ID, c.DeviceID, c.CreatedAt, c.UpdatedAt, c.Kind = crows[i].ID, crows[i].DeviceID, now, now, crows[i].Kind
	}
	for _, c := range update {
		c.UpdatedAt = now
	}
	return nil
}

// SetClockOffset records a camera's clock offset as last measured, without touching UpdatedAt:
// the clock drifting is no change to the device record. It returns device.ErrNotFound when no
// device has this ID.
func (db *DB) SetClockOffset(ctx context.Context, id int64, offset time.Duration) error {
	var res *gorm.DB
	err := db.writing(ctx, func(w *gorm.DB) error {
		res = w.Model(&deviceRow{}).Where("id = ?", id).UpdateColumn("clock_offset_ms", offset.Milliseconds())
		return res.Error
	})
	if err != nil {
		return wrap(err, "set clock offset of device %d", id)
	}
	if res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "set clock offset of device %d", id)
	}
	return nil
}
