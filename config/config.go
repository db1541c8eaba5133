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
	}
}
