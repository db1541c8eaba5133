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
		{"sip addr", func(c *Config) { c.SIP.Addr = "5060" }, `config: sip.addr: "5060" is not a valid host:port`},
		{"sip addr host", func(c *Config) { c.SIP.Addr = "192.0.2.1:0" }, ""},
		{"sip host with port", func(c *Config) { c.SIP.Host = "192.0.2.1:5060" },
			`config: sip.host: "192.0.2.1:5060" is not an IP address or host name (without port)`},
		{"sip host name", func(c *Config) { c.SIP.Host = "nvr.example.com" }, ""},
		{"sip host ipv6", func(c *Config) { c.SIP.Host = "2001:db8::1" }, ""},
		{"sip host bad label", func(c *Config) { c.SIP.Host = "-nvr.example" },
			`config: sip.host: "-nvr.example" is not an IP address or host name (without port)`},
		{"sip id short", func(c *Config) { c.SIP.ID = "3402000000200000001" },
			`config: sip.id: "3402000000200000001" is not a GB28181 ID of 20 digits`},
		{"sip id letters", func(c *Config) { c.SIP.ID = "3402000000200000000A" },
			`config: sip.id: "3402000000200000000A" is not a GB28181 ID of 20 digits`},
		{"sip domain", func(c *Config) { c.SIP.Domain = "340200" }, `config: sip.domain: "340200" is not a GB28181 domain of 10 digits`},
		{"sip allow list", func(c *Config) { c.SIP.AllowList = []string{"34020000001320000001", "cam1"} },
			`config: sip.allow_list[1]: "cam1" is not a GB28181 ID of 20 digits`},
		{"sip allow list ok", func(c *Config) { c.SIP.AllowList = []string{"34020000001320000001"}; c.SIP.AutoAccept = false }, ""},
		{"sip keepalive", func(c *Config) { c.SIP.KeepaliveInterval = 0 }, "config: sip.keepalive_interval: 0s must be greater than 0"},
		{"sip misses", func(c *Config) { c.SIP.KeepaliveMisses = 0 }, "config: sip.keepalive_misses: 0 is less than 1"},
		{"sip misses one", func(c *Config) { c.SIP.KeepaliveMisses = 1 }, ""},
		{"sip query", func(c *Config) { c.SIP.QueryTimeout = 0 }, "config: sip.query_timeout: 0s must be greater than 0"},
		{"sip catalog", func(c *Config) { c.SIP.CatalogTimeout = Duration(-time.Second) }, "config: sip.catalog_timeout: -1s must be greater than 0"},
		{"sip expires", func(c *Config) { c.SIP.RegisterExpiresMax = 0 }, "config: sip.register_expires_max: 0s must be greater than 0"},
		{"rtp ports syntax", func(c *Config) { c.RTP.Ports = "30000" }, `config: rtp.ports: "30000" is not a port range such as 30000-30999`},
		{"rtp ports letters", func(c *Config) { c.RTP.Ports = "a-b" }, `config: rtp.ports: "a-b" is not a port range such as 30000-30999`},
		{"rtp ports low", func(c *Config) { c.RTP.Ports = "1023-2000" },
			`config: rtp.ports: "1023-2000" is not a range of ports within 1024-65535 with the lower port first`},
		{"rtp ports high", func(c *Config) { c.RTP.Ports = "60000-65536" },
			`config: rtp.ports: "60000-65536" is not a range of ports within 1024-65535 with the lower port first`},
		{"rtp ports order", func(c *Config) { c.RTP.Ports = "31000-30000" },
			`config: rtp.ports: "31000-30000" is not a range of ports within 1024-65535 with the lower port first`},
		{"rtp ports bounds", func(c *Config) { c.SIP.Addr = ":1023"; c.RTP.Ports = "1024-65535" }, ""},
		{"rtp one port", func(c *Config) { c.RTP.Ports = "30000-30000" }, ""},
		{"rtp ports hold sip", func(c *Config) { c.RTP.Ports = "5000-6000" }, "config: rtp.ports: 5000-6000 includes 5060, the port of sip.addr"},
		{"rtp ports any sip port", func(c *Config) { c.SIP.Addr = ":0"; c.RTP.Ports = "1024-65535" }, ""},
		{"rtp single port", func(c *Config) { c.RTP.SinglePort = 30000 }, ""},
		{"rtp single port low", func(c *Config) { c.RTP.SinglePort = 554 },
			"config: rtp.single_port: 554 is not 0 (off) or a port within 1024-65535"},
		{"rtp single port sip", func(c *Config) { c.RTP.SinglePort = 5060 }, "config: rtp.single_port: 5060 is the port of sip.addr"},
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

func TestPortRange(t *testing.T) {
	tests := []struct {
		ports  string
		lo, hi int
	}{
		{"30000-30999", 30000, 30999},
		{" 1024 - 65535 ", 1024, 65535},
		{"30000-30000", 30000, 30000},
		{"30999-30000", 0, 0},
		{"30000", 0, 0},
		{"", 0, 0},
		{"0-100", 0, 0},
	}
	for _, tt := range tests {
		if lo, hi := (RTPConfig{Ports: tt.ports}).PortRange(); lo != tt.lo || hi != tt.hi {
			t.Errorf("PortRange(%q) = %d, %d, want %d, %d", tt.ports, lo, hi, tt.lo, tt.hi)
		}
	}
	if lo, hi := Default().RTP.PortRange(); lo != 30000 || hi != 30999 {
		t.Errorf("default range %d-%d", lo, hi)
	}
}
