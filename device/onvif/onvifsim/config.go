package onvifsim

import (
	"log/slog"
	"time"
)

// Vendor selects the shape of the simulator's replies and its default
// identity, tokens and service paths.
type Vendor string

// Vendors the simulator imitates.
const (
	VendorHikvision Vendor = "hikvision"
	VendorDahua     Vendor = "dahua"
	VendorAxis      Vendor = "axis"
)

// Vendors lists every Vendor.
var Vendors = []Vendor{VendorHikvision, VendorDahua, VendorAxis}

// AuthMode says how the simulator authenticates SOAP requests.
type AuthMode int

// Authentication modes.
const (
	// AuthUsernameToken requires a WS-UsernameToken (the default).
	AuthUsernameToken AuthMode = iota
	// AuthHTTPDigest requires HTTP digest and ignores any token, like a
	// camera set to "digest" authentication.
	AuthHTTPDigest
	// AuthEither accepts a valid token or HTTP digest; a token that is
	// present but wrong is refused.
	AuthEither
)

// TokenTolerance is how far a UsernameToken's Created may be from the
// simulator's clock.
const TokenTolerance = 5 * time.Second

// Config configures a Server. The zero value is a Hikvision-style camera
// without authentication on a free 127.0.0.1 port.
type Config struct {
	// Listen is the HTTP address; default "127.0.0.1:0".
	Listen string
	// Advertise is the host:port put into XAddrs and the snapshot URI; the
	// listener's address by default. Set it to a private address another
	// host would not reach to test the client's NAT rewrite.
	Advertise string
	// Vendor selects the reply style; VendorHikvision by default.
	Vendor Vendor
	// Info overrides the vendor's default identity when Manufacturer is set.
	Info DeviceInfo
	// Username and Password are the account; an empty Username turns
	// authentication off.
	Username, Password string
	// Auth selects the authentication mode.
	Auth AuthMode
	// AuthAlways requires authentication even for GetSystemDateAndTime,
	// which ONVIF Core §5.9.4.3 says must be open; some firmware does.
	AuthAlways bool
	// AuthFailStatus is the HTTP status of a refused request: 401 (default)
	// or 400, both seen on real cameras.
	AuthFailStatus int
	// ClockOffset is added to the host clock to get the simulator's clock.
	ClockOffset time.Duration
	// Profiles are the media profiles; DefaultProfiles when empty.
	Profiles []Profile
	// RTSPURL is the stream URI of every profile without its own StreamURI;
	// "{token}" in it is replaced by the profile token. Default: a
	// vendor-shaped URI on the advertised host, port 554.
	RTSPURL string
	// NoPTZ makes a fixed camera: no PTZ service, no PTZ configuration.
	NoPTZ bool
	// Media2 offers the Media2 service (ver20, ONVIF Profile T): it is
	// listed in GetServices and answers GetProfiles, GetStreamUri and
	// GetSnapshotUri in its namespace, listing every profile, those with
	// Media2Only included. Without it, Media2 requests get the fault
	// ActionNotSupported, as on firmware that predates Profile T.
	Media2 bool
	// Presets is the number of PTZ presets at start; 4 when zero, none
	// when negative.
	Presets int
	// DiscoveryAddr, when set, is the UDP address of a unicast WS-Discovery
	// responder ("127.0.0.1:0" picks a free port).
	DiscoveryAddr string
	// MulticastInterface, when set, is the interface on which the responder
	// joins 239.255.255.250:3702.
	MulticastInterface string
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

// DeviceInfo is the identity GetDeviceInformation returns.
type DeviceInfo struct {
	Manufacturer, Model, FirmwareVersion, SerialNumber, HardwareID string
}

// Profile is a simulated media profile. Zero fields get vendor defaults.
type Profile struct {
	Token, Name string
	// Encoding is written as is: "H264" (default), "H265", "JPEG".
	Encoding      string
	Width, Height int
	FPS           int
	BitrateKbps   int
	// StreamURI overrides Config.RTSPURL for this profile.
	StreamURI string
	// Media2Only hides the profile from Media (ver10): it is listed by
	// Media2's GetProfiles only, and Media's GetStreamUri and
	// GetSnapshotUri answer NoProfile for it. Firmware does this with H.265
	// streams, which the Media (ver10) schema cannot describe
	// (tt:VideoEncoding is JPEG, MPEG4 or H264).
	Media2Only bool
}

// DefaultProfiles are a main stream and a sub stream, as most cameras ship.
func DefaultProfiles() []Profile {
	return []Profile{
		{Encoding: "H264", Width: 1920, Height: 1080, FPS: 25, BitrateKbps: 4096},
		{Encoding: "H264", Width: 640, Height: 360, FPS: 15, BitrateKbps: 512},
	}
}

// H265Profiles are what a Profile T camera with its main stream switched to
// H.265 offers: the H.265 main stream through Media2 only, and an H.264 sub
// stream through both services. Use them with Config.Media2.
func H265Profiles() []Profile {
	return []Profile{
		{Encoding: "H265", Width: 2560, Height: 1440, FPS: 25, BitrateKbps: 4096, Media2Only: true},
		{Encoding: "H264", Width: 640, Height: 360, FPS: 15, BitrateKbps: 512},
	}
}

// Preset is a PTZ preset.
type Preset struct {
	Token, Name     string
	Pan, Tilt, Zoom float64
}
