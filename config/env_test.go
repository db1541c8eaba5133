package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestApplyEnv(t *testing.T) {
	c := Default()
	err := c.ApplyEnv(envOf(map[string]string{
		"NVR_HTTP_ADDR":          "0.0.0.0:80",
		"NVR_DATA_DIR":           "/var/lib/nvr",
		"NVR_ADMIN_PASSWORD":     "hunter2",
		"NVR_LOG_LEVEL":          "debug",
		"NVR_LOG_FORMAT":         "json",
		"NVR_DB_DRIVER":          "sqlite",
		"NVR_DB_DSN":             "/tmp/x.db",
		"NVR_MEDIA_IDLE_TIMEOUT": "45",
		"NVR_RTSP_TRANSPORT":     "tcp",
		"NVR_SIP_ADDR":           "10.0.0.2:15060",
		"NVR_SIP_ID":             "44010000002000000001",
		"NVR_SIP_DOMAIN":         "4401000000",
		"NVR_SIP_PASSWORD":       "12345678",
		"NVR_RTP_PORTS":          "40000-40100",
		"NVR_UNRELATED":          "ignored",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTP.Addr = "0.0.0.0:80"
	want.DataDir = "/var/lib/nvr"
	want.Admin.Password = "hunter2"
	want.Log = LogConfig{Level: "debug", Format: "json"}
	want.Database = DatabaseConfig{Driver: "sqlite", DSN: "/tmp/x.db"}
	want.Media.IdleTimeout = Duration(45 * time.Second)
	want.RTSP.Transport = "tcp"
	want.SIP.Addr, want.SIP.ID, want.SIP.Domain, want.SIP.Password = "10.0.0.2:15060", "44010000002000000001", "4401000000", "12345678"
	want.RTP.Ports = "40000-40100"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestApplyEnvEmptyIsUnset(t *testing.T) {
	c := Default()
	if err := c.ApplyEnv(envOf(map[string]string{"NVR_HTTP_ADDR": "", "NVR_LOG_LEVEL": ""})); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("empty variables changed the config: %+v", c)
	}
}

func TestApplyEnvErrors(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"NVR_LOG_LEVEL", "verbose", `config: NVR_LOG_LEVEL: "verbose" is not one of debug, info, warn, error`},
		{"NVR_LOG_FORMAT", "xml", `config: NVR_LOG_FORMAT: "xml" is not one of text, json`},
		{"NVR_DB_DRIVER", "mysql", `config: NVR_DB_DRIVER: "mysql" is not one of sqlite`},
		{"NVR_MEDIA_IDLE_TIMEOUT", "soon", `config: NVR_MEDIA_IDLE_TIMEOUT: "soon" is not a duration such as 10s or 1m30s`},
		{"NVR_RTSP_TRANSPORT", "TCP", `config: NVR_RTSP_TRANSPORT: "TCP" is not one of auto, tcp, udp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			err := c.ApplyEnv(envOf(map[string]string{tt.name: tt.value}))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}

	c := Default()
	err := c.ApplyEnv(envOf(map[string]string{"NVR_LOG_LEVEL": "x", "NVR_RTSP_TRANSPORT": "y"}))
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("two bad variables: %v, want two lines", err)
	}
}

// TestEnvVarsTable checks the table itself: every variable is documented, unique, and really
// sets the YAML key it claims to.
func TestEnvVarsTable(t *testing.T) {
	// A valid value for each variable that differs from the default.
	samples := map[string]string{
		"NVR_HTTP_ADDR":                ":1234",
		"NVR_DATA_DIR":                 "/srv/nvr",
		"NVR_ADMIN_PASSWORD":           "pw",
		"NVR_LOG_LEVEL":                "error",
		"NVR_LOG_FORMAT":               "json",
		"NVR_DB_DRIVER":                "sqlite", // the only driver is the default; checked by key only
		"NVR_DB_DSN":                   "/x.db",
		"NVR_MEDIA_IDLE_TIMEOUT":       "1m",
		"NVR_RTSP_TRANSPORT":           "udp",
		"NVR_SIP_ADDR":                 ":5070",
		"NVR_SIP_ID":                   "34020000002000000002",
		"NVR_SIP_DOMAIN":               "3402000001",
		"NVR_SIP_PASSWORD":             "pw",
		"NVR_RTP_PORTS":                "20000-20999",
		"NVR_RTP_IP":                   "192.0.2.7",
		"NVR_ONVIF_DISCOVERY_INTERVAL": "5m",
		"NVR_RECORDING_DIR":            "/srv/recordings",
		"NVR_RECORDING_MAX_AGE":        "720h",
		"NVR_RECORDING_MAX_BYTES":      "1000000000000",
		"NVR_RECORDING_MIN_FREE_BYTES": "5000000000",
	}
	keys := leafKeys()
	seen := map[string]bool{}
	for _, v := range EnvVars() {
		if seen[v.Name] {
			t.Errorf("%s listed twice", v.Name)
		}
		seen[v.Name] = true
		if !strings.HasPrefix(v.Name, "NVR_") || v.Help == "" {
			t.Errorf("%+v: want an NVR_ name and help text", v)
		}
		if !slices.Contains(keys, v.Key) {
			t.Errorf("%s: key %q is not a configuration key", v.Name, v.Key)
			continue
		}
		sample, ok := samples[v.Name]
		if !ok {
			t.Errorf("%s: add a sample value to this test", v.Name)
			continue
		}
		c := Default()
		if err := c.ApplyEnv(envOf(map[string]string{v.Name: sample})); err != nil {
			t.Errorf("%s=%s: %v", v.Name, sample, err)
			continue
		}
		got, def := valueAt(t, c, v.Key), valueAt(t, Default(), v.Key)
		if v.Name != "NVR_DB_DRIVER" && got == def {
			t.Errorf("%s=%s left %s at %q", v.Name, sample, v.Key, got)
		}
		if want, _ := parseDuration(sample); got != sample && got != want.String() {
			t.Errorf("%s=%s set %s to %q", v.Name, sample, v.Key, got)
		}
	}
	if len(seen) != len(samples) {
		t.Errorf("%d variables, %d samples", len(seen), len(samples))
	}
}

// valueAt returns the YAML text of the value at a dotted key of c.
func valueAt(t *testing.T, c Config, key string) string {
	t.Helper()
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		t.Fatal(err)
	}
	cur := &n
	for _, part := range strings.Split(key, ".") {
		var next *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == part {
				next = cur.Content[i+1]
			}
		}
		if next == nil {
			t.Fatalf("no key %s", key)
		}
		cur = next
	}
	return cur.Value
}
