package storage

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/nvr/nvr/device"
)

// onvifDeviceRow is a devices row as ONVIF onboarding writes it: with onvif_address (migration
// 0005), the device service address key that makes a camera's second device fail to insert.
// deviceRow leaves the column out because only the ONVIF code writes it.
type onvifDeviceRow struct {
	Row          deviceRow `gorm:"embedded"`
	ONVIFAddress *string   `gorm:"column:onvif_address"`
}

func (onvifDeviceRow) TableName() string { return "devices" }

// onvifAddress is the onvif_address of a device service URL: device.ONVIFAddressKey, or NULL
// for an address without one, which then collides with nothing.
func onvifAddress(xaddr string) *string {
	if k := device.ONVIFAddressKey(xaddr); k != "" {
		return &k
	}
	return nil
}

// CreateONVIFDevice stores an ONVIF device and its channels in one transaction, as
// CreateDevice does, and claims the device's address (device.ONVIFAddressKey of XAddr): when
// another device has it, nothing is stored and device.ErrConflict is returned.
func (db *DB) CreateONVIFDevice(ctx context.Context, d *device.Device, chans []*device.Channel) error {
	if d == nil {
		return errors.New("storage: create onvif device: nil device")
	}
	now := db.now()
	drow := &onvifDeviceRow{Row: *newDeviceRow(d), ONVIFAddress: onvifAddress(d.XAddr)}
	drow.Row.CreatedAt, drow.Row.UpdatedAt = now, now
	crows := make([]*channelRow, len(chans))
	for i, c := range chans {
		if c == nil {
			return errors.New("storage: create onvif device: nil channel")
		}
		crows[i] = newChannelRow(c)
		crows[i].CreatedAt, crows[i].UpdatedAt = now, now
	}
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(drow).Error; err != nil {
			return err
		}
		if len(crows) == 0 {
			return nil
		}
		for _, r := range crows {
			r.DeviceID = drow.Row.ID
		}
		return tx.Create(crows).Error
	})
	if err != nil {
		return wrap(err, "create onvif device %q", d.Name)
	}
	r := &drow.Row
	db.keepalives.added(r.ID)
	// Copied back only after the commit, so a failed call leaves the caller's values untouched.
	d.ID, d.CreatedAt, d.UpdatedAt, d.StreamTransport = r.ID, r.CreatedAt, r.UpdatedAt, r.StreamTransport
	for i, c := range chans {
		c.ID, c.DeviceID, c.CreatedAt, c.UpdatedAt, c.Kind = crows[i].ID, crows[i].DeviceID, crows[i].CreatedAt, crows[i].UpdatedAt, crows[i].Kind
	}
	return nil
}

// ClaimONVIFAddresses gives the ONVIF devices without an onvif_address theirs (devices added
// before migration 0005), oldest first. A device whose address another device already has keeps
// none: its ID is returned in dups, for the caller to report, since two devices of one camera
// are a mistake only a person can settle.
func (db *DB) ClaimONVIFAddresses(ctx context.Context) (claimed int, dups []int64, err error) {
	var rows []struct {
		ID    int64
		XAddr string `gorm:"column:xaddr"`
	}
	err = db.read.WithContext(ctx).Model(&deviceRow{}).Select("id", "xaddr").
		Where("type = ? AND onvif_address IS NULL", string(device.TypeONVIF)).Order("id").Find(&rows).Error
	if err != nil {
		return 0, nil, wrap(err, "list onvif devices without an address")
	}
	for _, r := range rows {
		addr := onvifAddress(r.XAddr)
		if addr == nil {
			continue
		}
		err := db.writing(ctx, func(w *gorm.DB) error {
			return w.Model(&deviceRow{}).Where("id = ? AND onvif_address IS NULL", r.ID).UpdateColumn("onvif_address", *addr).Error
		})
		switch {
		case errors.Is(err, gorm.ErrDuplicatedKey):
			dups = append(dups, r.ID)
		case err != nil:
			return claimed, dups, wrap(err, "claim the address of onvif device %d", r.ID)
		default:
			claimed++
		}
	}
	return claimed, dups, nil
}

// onvifDeviceColumns returns the device columns a probe of an ONVIF camera owns: its address
// (with its key, onvif_address), account, identity and clock. Name, type, liveness and the
// GB28181 columns are left alone.
func onvifDeviceColumns(r *deviceRow) map[string]any {
	return map[string]any{
		"name":            r.Name,
		"xaddr":           r.XAddr,
		"onvif_address":   onvifAddress(r.XAddr),
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
// when the device does not exist, and device.ErrConflict when another device has its address
// (device.ONVIFAddressKey of XAddr) or an added profile token is taken.
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
