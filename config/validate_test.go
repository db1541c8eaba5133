package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// validConfig returns the defaults with data_dir in a fresh temporary directory.
func validConfig(t *testing.T) Config {
	c := Default()
	c.DataDir = filepath.Join(t.TempDir(), "data")
	return c
}

func TestValidateDefaults(t *testing.T) {
	c := validConfig(t)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(c.DataDir); err != nil || !fi.IsDir() {
		t.Errorf("data_dir not created: %v", err)
	}
	entries, _ := os.ReadDir(c.DataDir)
	if len(entries) != 0 {
		t.Errorf("write probe left %d files behind", len(entries))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // the whole error; empty when valid
	}{
		{"addr without port", func(c *Config) { c.HTTP.Addr = "8080x" }, `config: http.addr: "8080x" is not a valid host:port`},
		{"addr bad port", func(c *Config) { c.HTTP.Addr = ":8080x" }, `config: http.addr: ":8080x" is not a valid host:port`},
		{"addr port too big", func(c *Config) { c.HTTP.Addr = ":70000" }, `config: http.addr: ":70000" is not a valid host:port`},
		{"addr empty", func(c *Config) { c.HTTP.Addr = "" }, `config: http.addr: "" is not a valid host:port`},
		{"addr host and port", func(c *Config) { c.HTTP.Addr = "127.0.0.1:8080" }, ""},
		{"addr ipv6", func(c *Config) { c.HTTP.Addr = "[::1]:0" }, ""},
		{"cors path", func(c *Config) { c.HTTP.CORSOrigins = []string{"*", "https://a.example/app"} },
			`config: http.cors_origins[1]: "https://a.example/app" is not "*" or an origin such as https://nvr.example.com`},
		{"cors no scheme", func(c *Config) { c.HTTP.CORSOrigins = []string{"a.example"} },
			`config: http.cors_origins[0]: "a.example" is not "*" or an origin such as https://nvr.example.com`},
		{"cors origins", func(c *Config) { c.HTTP.CORSOrigins = []string{"https://a.example", "http://10.0.0.1:8080"} }, ""},
		{"cors none", func(c *Config) { c.HTTP.CORSOrigins = nil }, ""},
		{"data_dir empty", func(c *Config) { c.DataDir = "" }, "config: data_dir: must not be empty"},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, `config: log.level: "verbose" is not one of debug, info, warn, error`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, `config: log.format: "xml" is not one of text, json`},
		{"token ttl zero", func(c *Config) { c.Auth.TokenTTL = 0 }, "config: auth.token_ttl: 0s must be greater than 0"},
		{"db driver", func(c *Config) { c.Database.Driver = "mysql" }, `config: database.driver: "mysql" is not one of sqlite`},
		{"media idle negative", func(c *Config) { c.Media.IdleTimeout = Duration(-time.Second) }, "config: media.idle_timeout: -1s must be greater than 0"},
		{"media start zero", func(c *Config) { c.Media.StartTimeout = 0 }, "config: media.start_timeout: 0s must be greater than 0"},
		{"ring too small", func(c *Config) { c.Media.RingSize = 63 }, "config: media.ring_size: 63 is not between 64 and 65536"},
		{"ring too big", func(c *Config) { c.Media.RingSize = 65537 }, "config: media.ring_size: 65537 is not between 64 and 65536"},
		{"ring bounds", func(c *Config) { c.Media.RingSize = 64 }, ""},
		{"ring upper bound", func(c *Config) { c.Media.RingSize = 65536 }, ""},
		{"rtsp transport", func(c *Config) { c.RTSP.Transport = "http" }, `config: rtsp.transport: "http" is not one of auto, tcp, udp`},
		{"rtsp connect", func(c *Config) { c.RTSP.ConnectTimeout = 0 }, "config: rtsp.connect_timeout: 0s must be greater than 0"},
		{"rtsp read", func(c *Config) { c.RTSP.ReadTimeout = 0 }, "config: rtsp.read_timeout: 0s must be greater than 0"},
		{"backoff min", func(c *Config) { c.RTSP.BackoffMin = 0 }, "config: rtsp.backoff_min: 0s must be greater than 0"},
		{"backoff max", func(c *Config) { c.RTSP.BackoffMax = 0 }, "config: rtsp.backoff_max: 0s must be greater than 0"},
		{"backoff order", func(c *Config) { c.RTSP.BackoffMin, c.RTSP.BackoffMax = Duration(5*time.Second), Duration(time.Second) },
			"config: rtsp.backoff_max: 1s is less than rtsp.backoff_min (5s)"},
		{"backoff equal", func(c *Config) { c.RTSP.BackoffMin, c.RTSP.BackoffMax = Duration(time.Second), Duration(time.Second) }, ""},
		{"hls segment", func(c *Config) { c.HLS.SegmentDuration = 0 }, "config: hls.segment_duration: 0s must be greater than 0"},
		{"hls count", func(c *Config) { c.HLS.SegmentCount = 2 }, "config: hls.segment_count: 2 is less than 3, the fewest a live playlist may list"},
		{"hls idle", func(c *Config) { c.HLS.IdleTimeout = 0 }, "config: hls.idle_timeout: 0s must be greater than 0"},
		{"two problems", func(c *Config) { c.Log.Level = "x"; c.HLS.SegmentCount = 0 },
			"config: log.level: \"x\" is not one of debug, info, warn, error\nconfig: hls.segment_count: 0 is less than 3, the fewest a live playlist may list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("error %v\nwant  %s", err, tt.want)
			}
		})
	}
}

func TestValidateDataDirNotCreatable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := validConfig(t)
	c.DataDir = filepath.Join(file, "data")
	want := "config: data_dir: cannot create " + c.DataDir + ": not a directory"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestValidateDataDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	c := validConfig(t)
	c.DataDir = dir
	want := "config: data_dir: " + dir + " is not writable: permission denied"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
