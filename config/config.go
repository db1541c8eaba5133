// Package config defines the nvr configuration: its defaults, how it is read from a YAML file
// and NVR_* environment variables, and the checks that turn a bad value into one clear message
// naming the key to fix.
package config

import "time"

// Config is the whole nvr configuration; the YAML keys are those of nvr.example.yaml.
type Config struct {
	// HTTP configures the web server.
	HTTP HTTPConfig `yaml:"http"`
	// DataDir holds the database and recordings; Validate creates it when missing.
	DataDir string `yaml:"data_dir"`
	// Log configures the process log.
	Log LogConfig `yaml:"log"`
	// Admin configures the first administrator account.
	Admin AdminConfig `yaml:"admin"`
	// Auth configures API authentication.
	Auth AuthConfig `yaml:"auth"`
	// Database selects the database.
	Database DatabaseConfig `yaml:"database"`
	// Media configures live streams.
	Media MediaConfig `yaml:"media"`
	// RTSP configures pulling from RTSP cameras.
	RTSP RTSPConfig `yaml:"rtsp"`
	// HLS configures HLS playback.
	HLS HLSConfig `yaml:"hls"`
	// SIP configures the GB28181 SIP server that devices register with.
	SIP SIPConfig `yaml:"sip"`
	// RTP configures the ports GB28181 devices send media to.
	RTP RTPConfig `yaml:"rtp"`
	// ONVIF configures talking to ONVIF cameras and finding them.
	ONVIF ONVIFConfig `yaml:"onvif"`
	// Recording configures recording channels and keeping their recordings.
	Recording RecordingConfig `yaml:"recording"`
}

// HTTPConfig configures the web server that serves the API, the console and HTTP playback.
type HTTPConfig struct {
	// Addr is the host:port to listen on; an empty host means all interfaces.
	Addr string `yaml:"addr"`
	// CORSOrigins lists the origins allowed to call the API from a browser; "*" allows any.
	CORSOrigins []string `yaml:"cors_origins"`
}

// LogConfig configures the process log.
type LogConfig struct {
	// Level is the least severe level written: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text (key=value lines for people) or json (for log collectors).
	Format string `yaml:"format"`
}

// AdminConfig configures the administrator account.
type AdminConfig struct {
	// Password is the password of the admin user created at first start, when the database has no users yet.
	Password string `yaml:"password"`
}

// AuthConfig configures API authentication.
type AuthConfig struct {
	// TokenTTL is how long a login token stays valid.
	TokenTTL Duration `yaml:"token_ttl"`
}

// DatabaseConfig selects the database.
type DatabaseConfig struct {
	// Driver is the database kind; only sqlite is supported so far.
	Driver string `yaml:"driver"`
	// DSN is the driver's data source name; empty means <data_dir>/nvr.db for sqlite.
	DSN string `yaml:"dsn"`
}

// MediaConfig configures live streams shared by every protocol.
type MediaConfig struct {
	// IdleTimeout is how long an on-demand stream keeps running after its last viewer leaves,
	// so that a viewer who reloads the page does not wait for the camera again.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// StartTimeout is how long a viewer waits for the first keyframe of a stream being started.
	StartTimeout Duration `yaml:"start_timeout"`
	// RingSize is the number of access units (all tracks) each stream keeps for readers that fall behind.
	RingSize int `yaml:"ring_size"`
}

// RTSPConfig configures pulling streams from RTSP cameras.
type RTSPConfig struct {
	// Transport is auto (try UDP, fall back to TCP), tcp or udp.
	Transport string `yaml:"transport"`
	// ConnectTimeout bounds connecting to a camera and its RTSP handshake.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// ReadTimeout is how long a silent camera is tolerated before the connection is restarted.
	ReadTimeout Duration `yaml:"read_timeout"`
	// BackoffMin is the first delay before reconnecting to a failed camera.
	BackoffMin Duration `yaml:"backoff_min"`
	// BackoffMax caps the delay, which doubles after each failed attempt.
	BackoffMax Duration `yaml:"backoff_max"`
}

// HLSConfig configures HLS playback.
type HLSConfig struct {
	// SegmentDuration is the target length of a segment; shorter means lower latency, more requests.
	SegmentDuration Duration `yaml:"segment_duration"`
	// SegmentCount is the number of segments listed in a live playlist.
	SegmentCount int `yaml:"segment_count"`
	// IdleTimeout is how long an HLS muxer runs after its last playlist request; players poll
	// rather than hold a connection, so this is how the server notices they left.
	IdleTimeout Duration `yaml:"idle_timeout"`
}

// SIPConfig configures the GB28181 SIP server (GB/T 28181-2016 clause 9.1 registration,
// 9.6 keepalive).
type SIPConfig struct {
	// Addr is the host:port the server listens on, over UDP and TCP alike.
	Addr string `yaml:"addr"`
	// Host is the address put in Via, Contact and SDP; empty means derived at run time from the
	// listener (its IP, or the first non-loopback address when it listens on all interfaces).
	Host string `yaml:"host"`
	// ID is the platform's 20-digit SIP ID; devices are configured with it.
	ID string `yaml:"id"`
	// Domain is the 10-digit SIP domain, also the digest realm.
	Domain string `yaml:"domain"`
	// Password is the device password unless a device has its own; empty with no per-device
	// password means devices register without authentication.
	Password string `yaml:"password"`
	// AutoAccept admits unknown devices that register; when false only devices in AllowList or
	// already in the database may register.
	AutoAccept bool `yaml:"auto_accept"`
	// AllowList lists 20-digit device IDs that are always accepted.
	AllowList []string `yaml:"allow_list"`
	// KeepaliveInterval is how often devices are expected to send a keepalive.
	KeepaliveInterval Duration `yaml:"keepalive_interval"`
	// KeepaliveMisses is how many intervals may pass without a keepalive before a device and its
	// channels are marked offline.
	KeepaliveMisses int `yaml:"keepalive_misses"`
	// QueryTimeout bounds a query to a device (DeviceInfo, RecordInfo, PresetQuery …); the API
	// answers 504 after it.
	QueryTimeout Duration `yaml:"query_timeout"`
	// CatalogTimeout bounds the assembly of a catalog sent in many parts; what arrived by then
	// is kept.
	CatalogTimeout Duration `yaml:"catalog_timeout"`
	// RegisterExpiresMax caps the registration lifetime granted to a device.
	RegisterExpiresMax Duration `yaml:"register_expires_max"`
	// InviteTimeout bounds the wait for a device's answer to an INVITE; the platform then sends
	// CANCEL and the viewer gets an error.
	InviteTimeout Duration `yaml:"invite_timeout"`
}

// RTPConfig configures the ports that GB28181 devices send PS over RTP to.
type RTPConfig struct {
	// Ports is the range "lo-hi" from which each stream gets a port (TCP passive and UDP).
	Ports string `yaml:"ports"`
	// SinglePort, when not 0, is one port shared by all UDP streams, which are told apart by
	// SSRC; it suits firewalls and NAT that open one port only.
	SinglePort int `yaml:"single_port"`
	// IP is the address devices send media to, written in the INVITE's SDP; empty means the
	// SIP host (sip.host, or the address derived from the SIP listener).
	IP string `yaml:"ip"`
	// SSRCCheck drops RTP whose SSRC differs from the one the device answered with. Some devices
	// answer one SSRC and send another: turn it off for them.
	SSRCCheck bool `yaml:"ssrc_check"`
	// NoMediaTimeout ends a GB28181 stream when no RTP arrived for this long.
	NoMediaTimeout Duration `yaml:"no_media_timeout"`
	// KeyframeTimeout is how long a new stream waits for a keyframe before it asks the device
	// for one (IFameCmd).
	KeyframeTimeout Duration `yaml:"keyframe_timeout"`
}

// ONVIFConfig configures ONVIF cameras: requests, reachability polls, snapshots and discovery.
type ONVIFConfig struct {
	// Timeout bounds one SOAP request or snapshot fetch; the API answers 504 after it.
	Timeout Duration `yaml:"timeout"`
	// PollInterval is how often each camera is checked for reachability (GetSystemDateAndTime,
	// which also keeps the camera's clock offset up to date).
	PollInterval Duration `yaml:"poll_interval"`
	// PollMisses is how many failed polls in a row mark a camera and its channels offline.
	PollMisses int `yaml:"poll_misses"`
	// SnapshotCache is how long a fetched snapshot is served again before the camera is asked
	// for a new one.
	SnapshotCache Duration `yaml:"snapshot_cache"`
	// DiscoveryInterval, when not 0, runs a WS-Discovery that often in the background; what it
	// finds is listed by GET /api/v1/onvif/discovered. 0 turns it off.
	DiscoveryInterval Duration `yaml:"discovery_interval"`
	// DiscoveryInterfaces are the interfaces the background discovery sends multicast probes
	// on; empty means every interface that can.
	DiscoveryInterfaces []string `yaml:"discovery_interfaces"`
	// DiscoveryTimeout is how long a background discovery collects answers.
	DiscoveryTimeout Duration `yaml:"discovery_timeout"`
}

// RecordingConfig configures recording channels into segment files and the retention that
// deletes the oldest ones. Which channels are recorded, and when, is each channel's recording
// policy (PUT /api/v1/channels/{id}/recording), kept in the database.
type RecordingConfig struct {
	// Dir holds the segment files, <dir>/<stream>/<YYYY-MM-DD>/<start>.mp4; empty means
	// <data_dir>/recordings.
	Dir string `yaml:"dir"`
	// SegmentDuration is the planned length of a segment file; it is cut at the next keyframe.
	SegmentDuration Duration `yaml:"segment_duration"`
	// MaxAge deletes recordings older than this, for channels whose policy sets no max_age of
	// their own; 0 keeps them until space is needed.
	MaxAge Duration `yaml:"max_age"`
	// MaxBytes is the quota of all recordings together, in bytes; 0 means none.
	MaxBytes int64 `yaml:"max_bytes"`
	// MinFreeBytes is the free space, in bytes, to keep on the recordings' file system: below it
	// the oldest recordings are deleted. 0 means none.
	MinFreeBytes int64 `yaml:"min_free_bytes"`
	// CheckInterval is how often retention checks ages, the quota and free space.
	CheckInterval Duration `yaml:"check_interval"`
}

// Default returns the configuration used for every key that the file and environment leave out.
func Default() Config {
	return Config{
		HTTP: HTTPConfig{
			Addr:        ":8080",
			CORSOrigins: []string{"*"},
		},
		DataDir:  "./data",
		Log:      LogConfig{Level: "info", Format: "text"},
		Auth:     AuthConfig{TokenTTL: Duration(24 * time.Hour)},
		Database: DatabaseConfig{Driver: "sqlite"},
		Media: MediaConfig{
			IdleTimeout:  Duration(10 * time.Second),
			StartTimeout: Duration(10 * time.Second),
			RingSize:     2048,
		},
		RTSP: RTSPConfig{
			Transport:      "auto",
			ConnectTimeout: Duration(5 * time.Second),
			ReadTimeout:    Duration(10 * time.Second),
			BackoffMin:     Duration(1 * time.Second),
			BackoffMax:     Duration(30 * time.Second),
		},
		HLS: HLSConfig{
			SegmentDuration: Duration(1 * time.Second),
			SegmentCount:    7,
			IdleTimeout:     Duration(30 * time.Second),
		},
		SIP: SIPConfig{
			Addr:       ":5060",
			ID:         "34020000002000000001",
			Domain:     "3402000000",
			AutoAccept: true,
			// Not nil: "allow_list: []" in a file decodes to an empty slice, and the defaults
			// must equal what nvr.example.yaml spells out.
			AllowList:          []string{},
			KeepaliveInterval:  Duration(60 * time.Second),
			KeepaliveMisses:    3,
			QueryTimeout:       Duration(10 * time.Second),
			CatalogTimeout:     Duration(30 * time.Second),
			RegisterExpiresMax: Duration(24 * time.Hour),
			InviteTimeout:      Duration(10 * time.Second),
		},
		RTP: RTPConfig{
			Ports:           "30000-30999",
			SSRCCheck:       true,
			NoMediaTimeout:  Duration(10 * time.Second),
			KeyframeTimeout: Duration(time.Second),
		},
		ONVIF: ONVIFConfig{
			Timeout:       Duration(10 * time.Second),
			PollInterval:  Duration(30 * time.Second),
			PollMisses:    2,
			SnapshotCache: Duration(2 * time.Second),
			// Not nil, as sip.allow_list.
			DiscoveryInterfaces: []string{},
			DiscoveryTimeout:    Duration(3 * time.Second),
		},
		Recording: RecordingConfig{
			SegmentDuration: Duration(time.Minute),
			MinFreeBytes:    1 << 30,
			CheckInterval:   Duration(time.Minute),
		},
	}
}
