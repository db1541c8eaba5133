package storage

import (
	"time"

	"github.com/nvr/nvr/device"
)

// The row types mirror the tables of the migrations (0001_init.sql, 0002_gb28181.sql,
// 0004_onvif.sql, 0005_onvif_unique.sql); they stay private so that gorm tags and table names never leak into the
// domain types.

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
	ID              int64 `gorm:"primaryKey"`
	Type            string
	Name            string
	URL             string `gorm:"column:url"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
	GBID            string `gorm:"column:gb_id"`
	Manufacturer    string
	Model           string
	Firmware        string
	Transport       string
	RemoteAddr      string `gorm:"column:remote_addr"`
	Charset         string
	Online          bool
	RegisteredAt    *time.Time `gorm:"column:registered_at"`
	LastKeepalive   *time.Time `gorm:"column:last_keepalive"`
	ExpiresAt       *time.Time `gorm:"column:expires_at"`
	Password        string
	StreamTransport string `gorm:"column:stream_transport"`
	Longitude       float64
	Latitude        float64
	PositionAt      *time.Time `gorm:"column:position_at"`
	XAddr           string     `gorm:"column:xaddr"`
	Username        string
	Serial          string
	ClockOffsetMS   int64 `gorm:"column:clock_offset_ms"`
}

func (deviceRow) TableName() string { return "devices" }

// newDeviceRow converts d, writing an empty StreamTransport as the default, as the column
// default of migration 0002 did for the rows that existed before it.
func newDeviceRow(d *device.Device) *deviceRow {
	st := d.StreamTransport
	if st == "" {
		st = device.StreamUDP
	}
	return &deviceRow{
		ID: d.ID, Type: string(d.Type), Name: d.Name, URL: d.URL, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		GBID: d.GBID, Manufacturer: d.Manufacturer, Model: d.Model, Firmware: d.Firmware,
		Transport: d.Transport, RemoteAddr: d.RemoteAddr, Charset: d.Charset, Online: d.Online,
		RegisteredAt: nullTime(d.RegisteredAt), LastKeepalive: nullTime(d.LastKeepalive), ExpiresAt: nullTime(d.ExpiresAt),
		Password: d.Password, StreamTransport: st,
		Longitude: d.Longitude, Latitude: d.Latitude, PositionAt: nullTime(d.PositionAt),
		XAddr: d.XAddr, Username: d.Username, Serial: d.Serial, ClockOffsetMS: d.ClockOffset.Milliseconds(),
	}
}

func (r *deviceRow) toDomain() *device.Device {
	return &device.Device{
		ID: r.ID, Type: device.Type(r.Type), Name: r.Name, URL: r.URL, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		GBID: r.GBID, Manufacturer: r.Manufacturer, Model: r.Model, Firmware: r.Firmware,
		Transport: r.Transport, RemoteAddr: r.RemoteAddr, Charset: r.Charset, Online: r.Online,
		RegisteredAt: timeOf(r.RegisteredAt), LastKeepalive: timeOf(r.LastKeepalive), ExpiresAt: timeOf(r.ExpiresAt),
		Password: r.Password, StreamTransport: r.StreamTransport,
		Longitude: r.Longitude, Latitude: r.Latitude, PositionAt: timeOf(r.PositionAt),
		XAddr: r.XAddr, Username: r.Username, Serial: r.Serial, ClockOffset: time.Duration(r.ClockOffsetMS) * time.Millisecond,
	}
}

type channelRow struct {
	ID           int64 `gorm:"primaryKey"`
	DeviceID     int64
	Name         string
	URL          string `gorm:"column:url"`
	AlwaysOn     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	GBID         string `gorm:"column:gb_id"`
	ParentID     string `gorm:"column:parent_id"`
	Manufacturer string
	Model        string
	Status       string
	PTZType      int `gorm:"column:ptz_type"`
	CivilCode    string
	Address      string
	Longitude    float64
	Latitude     float64
	Kind         string
	ProfileToken string `gorm:"column:profile_token"`
	Role         string
	Codec        string
	Width        int
	Height       int
	FPS          int    `gorm:"column:fps"`
	SnapshotURI  string `gorm:"column:snapshot_uri"`
	PTZ          bool   `gorm:"column:ptz"`
}

func (channelRow) TableName() string { return "channels" }

// newChannelRow converts c, writing an empty Kind as the default, as the column default of
// migration 0002 did for the rows that existed before it.
func newChannelRow(c *device.Channel) *channelRow {
	kind := c.Kind
	if kind == "" {
		kind = device.KindChannel
	}
	return &channelRow{
		ID: c.ID, DeviceID: c.DeviceID, Name: c.Name, URL: c.URL, AlwaysOn: c.AlwaysOn, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		GBID: c.GBID, ParentID: c.ParentID, Manufacturer: c.Manufacturer, Model: c.Model, Status: c.Status,
		PTZType: c.PTZType, CivilCode: c.CivilCode, Address: c.Address, Longitude: c.Longitude, Latitude: c.Latitude, Kind: kind,
		ProfileToken: c.ProfileToken, Role: c.Role, Codec: c.Codec, Width: c.Width, Height: c.Height, FPS: c.FPS,
		SnapshotURI: c.SnapshotURI, PTZ: c.PTZ,
	}
}

func (r *channelRow) toDomain() *device.Channel {
	return &device.Channel{
		ID: r.ID, DeviceID: r.DeviceID, Name: r.Name, URL: r.URL, AlwaysOn: r.AlwaysOn, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		GBID: r.GBID, ParentID: r.ParentID, Manufacturer: r.Manufacturer, Model: r.Model, Status: r.Status,
		PTZType: r.PTZType, CivilCode: r.CivilCode, Address: r.Address, Longitude: r.Longitude, Latitude: r.Latitude, Kind: r.Kind,
		ProfileToken: r.ProfileToken, Role: r.Role, Codec: r.Codec, Width: r.Width, Height: r.Height, FPS: r.FPS,
		SnapshotURI: r.SnapshotURI, PTZ: r.PTZ,
	}
}

type eventRow struct {
	ID          int64 `gorm:"primaryKey"`
	DeviceID    int64
	ChannelGBID string `gorm:"column:channel_gb_id"`
	Kind        string
	Priority    int
	Method      int
	AlarmType   string
	Description string
	Longitude   float64
	Latitude    float64
	Time        time.Time
	CreatedAt   time.Time
}

func (eventRow) TableName() string { return "events" }

func (r *eventRow) toDomain() *device.Event {
	return &device.Event{
		ID: r.ID, DeviceID: r.DeviceID, ChannelGBID: r.ChannelGBID, Kind: r.Kind, Priority: r.Priority, Method: r.Method,
		AlarmType: r.AlarmType, Description: r.Description, Longitude: r.Longitude, Latitude: r.Latitude,
		Time: r.Time, CreatedAt: r.CreatedAt,
	}
}

// nullTime returns t in UTC for a nullable column, or nil (NULL) for the zero time. Every
// stored time is UTC: SQLite compares and sorts DATETIME columns as text, which is only right
// when all values share one offset.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// timeOf is the inverse of nullTime.
func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}
