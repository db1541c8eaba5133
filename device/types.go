// Package device holds the domain types and services for cameras, NVRs and their channels.
package device

import (
	"errors"
	"time"
)

// Type says how the platform reaches a device.
type Type string

// Device types. The value is stored in the database, so it never changes once released.
const (
	// TypeRTSP is a camera pulled directly from an RTSP URL.
	TypeRTSP Type = "rtsp"
	// TypeONVIF is a camera discovered and controlled over ONVIF; streams are pulled over RTSP.
	TypeONVIF Type = "onvif"
	// TypeGB28181 is a camera or NVR that registers with our SIP server and pushes PS/RTP.
	TypeGB28181 Type = "gb28181"
)

// Device is a camera or recorder known to the platform; it owns one or more channels.
type Device struct {
	ID   int64
	Type Type
	Name string
	// URL is the source URL including credentials; only TypeRTSP devices use it.
	URL       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Channel is one video source of a device, i.e. one live stream.
type Channel struct {
	ID       int64
	DeviceID int64
	Name     string
	// URL is the stream source URL including credentials.
	URL string
	// AlwaysOn keeps the stream running without viewers (e.g. for recording) instead of on demand.
	AlwaysOn  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// User is an account that may log in to the web console and API.
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	CreatedAt    time.Time
}

// ErrNotFound is returned by stores when the requested record does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by stores when a record would violate a uniqueness rule, such as a taken username.
var ErrConflict = errors.New("already exists")

// ListOptions selects a page of devices.
type ListOptions struct {
	// Offset is the number of records to skip.
	Offset int
	// Limit is the maximum number of records to return; 0 means no limit.
	Limit int
	// Type restricts the list to one device type; empty means all types.
	Type Type
}
