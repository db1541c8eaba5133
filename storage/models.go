package storage

import (
	"time"

	"github.com/nvr/nvr/device"
)

// The row types mirror the tables of migrations/0001_init.sql; they stay private so that gorm
// tags and table names never leak into the domain types.

type userRow struct {
	ID           int64 `gorm:"primaryKey"`
	Username     string
	PasswordHash string
	CreatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r *userRow) toDomain() *device.User {
	return &device.User{ID: r.ID, Username: r.Username, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt}
}

type settingRow struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (settingRow) TableName() string { return "settings" }

type deviceRow struct {
	ID        int64 `gorm:"primaryKey"`
	Type      string
	Name      string
	URL       string `gorm:"column:url"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (deviceRow) TableName() string { return "devices" }

func newDeviceRow(d *device.Device) *deviceRow {
	return &deviceRow{ID: d.ID, Type: string(d.Type), Name: d.Name, URL: d.URL, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func (r *deviceRow) toDomain() *device.Device {
	return &device.Device{ID: r.ID, Type: device.Type(r.Type), Name: r.Name, URL: r.URL, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

type channelRow struct {
	ID        int64 `gorm:"primaryKey"`
	DeviceID  int64
	Name      string
	URL       string `gorm:"column:url"`
	AlwaysOn  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (channelRow) TableName() string { return "channels" }

func newChannelRow(c *device.Channel) *channelRow {
	return &channelRow{ID: c.ID, DeviceID: c.DeviceID, Name: c.Name, URL: c.URL, AlwaysOn: c.AlwaysOn, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (r *channelRow) toDomain() *device.Channel {
	return &device.Channel{ID: r.ID, DeviceID: r.DeviceID, Name: r.Name, URL: r.URL, AlwaysOn: r.AlwaysOn, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
