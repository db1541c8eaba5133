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
//
// The fields after URL describe GB28181 devices and stay zero for the other types, except
// those that ONVIF devices share (Manufacturer, Model, Firmware, Online, LastKeepalive,
// Password), and the ONVIF fields at the end. A zero time.Time means "never" (stored as NULL).
type Device struct {
	ID   int64
	Type Type
	Name string
	// URL is the source URL including credentials; only TypeRTSP devices use it.
	URL       string
	CreatedAt time.Time
	UpdatedAt time.Time

	// GBID is the device's 20-digit GB/T 28181 ID (Appendix D); empty for other types. It is
	// unique among devices that have one.
	GBID string
	// Manufacturer, Model and Firmware are what the device reported in its DeviceInfo answer
	// (GB28181) or GetDeviceInformation (ONVIF).
	Manufacturer string
	Model        string
	Firmware     string
	// Transport is the SIP transport the device registered over: TransportUDP or TransportTCP.
	Transport string
	// RemoteAddr is the source "ip:port" of the device's last REGISTER or MESSAGE; requests to
	// the device go there, not to its Via or Contact address, which are wrong behind NAT.
	RemoteAddr string
	// Charset is the encoding of the device's MANSCDP bodies: CharsetGB2312, CharsetGB18030 or
	// CharsetUTF8. Empty means not known yet: GB2312, the standard's default, with fallback.
	Charset string
	// Online reports whether the device is registered and its keepalives arrive (GB28181), or
	// whether it answered the last reachability polls (ONVIF).
	Online bool
	// RegisteredAt is the time of the last successful REGISTER.
	RegisteredAt time.Time
	// LastKeepalive is the time of the last keepalive (GB28181) or answered poll (ONVIF).
	LastKeepalive time.Time
	// ExpiresAt is when the current registration runs out unless refreshed.
	ExpiresAt time.Time
	// Password overrides the global SIP password for this device; empty means the global one.
	// For an ONVIF device it is the password of Username, the camera account.
	Password string
	// StreamTransport is how the device sends media: StreamUDP, StreamTCPPassive or
	// StreamTCPActive. Stores write an empty value as StreamUDP, the default.
	StreamTransport string
	// Longitude and Latitude are the last position reported by MobilePosition, in degrees.
	Longitude float64
	Latitude  float64
	// PositionAt is when that position was reported.
	PositionAt time.Time

	// XAddr is an ONVIF device's device service URL, e.g. "http://192.0.2.10/onvif/device_service".
	XAddr string
	// Username is the ONVIF camera account the platform signs its requests with; empty when the
	// camera asks for none.
	Username string
	// Serial is the serial number an ONVIF device reported.
	Serial string
	// ClockOffset is an ONVIF camera's clock minus ours, as last measured: WS-UsernameTokens are
	// signed with the camera's time (ONVIF Core §5.12.2), which real cameras check.
	ClockOffset time.Duration
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

	// The fields below come from a GB28181 Catalog (GB/T 28181-2016 A.2.4.4) and stay zero for
	// the channels of other device types.

	// GBID is the channel's ID in the device's catalog: 20 digits, or 2 to 8 digits for a civil
	// code node. It is unique within the device.
	GBID string
	// ParentID is the GBID of the node above this one in the catalog tree (the device, a
	// business group or a virtual organisation); empty for a top-level node.
	ParentID     string
	Manufacturer string
	Model        string
	// Status is ChannelOn or ChannelOff as the device reports it (GB28181) or as the
	// reachability poll of its camera found it (ONVIF); empty for RTSP channels.
	Status string
	// PTZType is one of the PTZ* constants; PTZUnknown when the device does not say.
	PTZType   int
	CivilCode string
	Address   string
	// Longitude and Latitude are in degrees; 0 when the device does not say.
	Longitude float64
	Latitude  float64
	// Kind says what the catalog item is: KindChannel (a video source) or a node of the tree.
	// Stores write an empty value as KindChannel, the default.
	Kind string

	// The fields below describe the channels of ONVIF devices, one per media profile, and stay
	// zero for the others.

	// ProfileToken is the media profile's token; it is unique within the device.
	ProfileToken string
	// Role is RoleMain, RoleSub or RoleOther: the profile's rank by resolution among the
	// profiles of its video source.
	Role string
	// Codec is the profile's video encoding ("H264", "H265", "JPEG"), and Width, Height and FPS
	// its picture, as the camera reported them.
	Codec         string
	Width, Height int
	FPS           int
	// SnapshotURI is the profile's JPEG snapshot URI, without credentials; empty when the camera
	// has none.
	SnapshotURI string
	// PTZ reports whether the profile has a PTZ configuration, i.e. whether PTZ works with it.
	PTZ bool
}

// Roles of an ONVIF channel's profile (Channel.Role).
const (
	RoleMain  = "main"
	RoleSub   = "sub"
	RoleOther = "other"
)

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
