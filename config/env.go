package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// EnvVar describes one environment variable that overrides a configuration key.
type EnvVar struct {
	// Name is the variable, e.g. NVR_HTTP_ADDR.
	Name string
	// Key is the YAML key it overrides, e.g. http.addr.
	Key string
	// Help is a one-line description for generated documentation.
	Help string
}

// envBinding ties an EnvVar to the code that applies it.
type envBinding struct {
	EnvVar
	set func(c *Config, v string) error
}

// envBindings is the single table of environment overrides: ApplyEnv applies it and EnvVars
// documents it, so the two cannot drift apart. It is never modified.
var envBindings = []envBinding{
	{EnvVar{"NVR_HTTP_ADDR", "http.addr", "HTTP listen address, host:port"},
		func(c *Config, v string) error { c.HTTP.Addr = v; return nil }},
	{EnvVar{"NVR_DATA_DIR", "data_dir", "directory for the database and recordings"},
		func(c *Config, v string) error { c.DataDir = v; return nil }},
	{EnvVar{"NVR_ADMIN_PASSWORD", "admin.password", "password of the admin user created at first start"},
		func(c *Config, v string) error { c.Admin.Password = v; return nil }},
	{EnvVar{"NVR_LOG_LEVEL", "log.level", "log level: " + strings.Join(logLevels, ", ")},
		func(c *Config, v string) error { return setEnum(&c.Log.Level, v, logLevels) }},
	{EnvVar{"NVR_LOG_FORMAT", "log.format", "log format: " + strings.Join(logFormats, ", ")},
		func(c *Config, v string) error { return setEnum(&c.Log.Format, v, logFormats) }},
	{EnvVar{"NVR_DB_DRIVER", "database.driver", "database driver: " + strings.Join(dbDrivers, ", ")},
		func(c *Config, v string) error { return setEnum(&c.Database.Driver, v, dbDrivers) }},
	{EnvVar{"NVR_DB_DSN", "database.dsn", "database data source name; empty means <data_dir>/nvr.db"},
		func(c *Config, v string) error { c.Database.DSN = v; return nil }},
	{EnvVar{"NVR_MEDIA_IDLE_TIMEOUT", "media.idle_timeout", "how long an on-demand stream runs after its last viewer, e.g. 10s"},
		func(c *Config, v string) error { return setDuration(&c.Media.IdleTimeout, v) }},
	{EnvVar{"NVR_RTSP_TRANSPORT", "rtsp.transport", "RTSP transport: " + strings.Join(rtspTransports, ", ")},
		func(c *Config, v string) error { return setEnum(&c.RTSP.Transport, v, rtspTransports) }},
	{EnvVar{"NVR_SIP_ADDR", "sip.addr", "GB28181 SIP listen address (UDP and TCP), host:port"},
		func(c *Config, v string) error { c.SIP.Addr = v; return nil }},
	{EnvVar{"NVR_SIP_ID", "sip.id", "platform SIP ID, 20 digits"},
		func(c *Config, v string) error { c.SIP.ID = v; return nil }},
	{EnvVar{"NVR_SIP_DOMAIN", "sip.domain", "SIP domain and digest realm, 10 digits"},
		func(c *Config, v string) error { c.SIP.Domain = v; return nil }},
	{EnvVar{"NVR_SIP_PASSWORD", "sip.password", "password of GB28181 devices without their own; empty = no authentication"},
		func(c *Config, v string) error { c.SIP.Password = v; return nil }},
	{EnvVar{"NVR_RTP_PORTS", "rtp.ports", "port range for GB28181 media, e.g. 30000-30999"},
		func(c *Config, v string) error { c.RTP.Ports = v; return nil }},
	{EnvVar{"NVR_RTP_IP", "rtp.ip", "IPv4 address devices send GB28181 media to; empty = the SIP host"},
		func(c *Config, v string) error { c.RTP.IP = v; return nil }},
	{EnvVar{"NVR_ONVIF_DISCOVERY_INTERVAL", "onvif.discovery_interval", "background ONVIF discovery every this long, e.g. 5m; 0 = off"},
		func(c *Config, v string) error { return setDuration(&c.ONVIF.DiscoveryInterval, v) }},
	{EnvVar{"NVR_RECORDING_DIR", "recording.dir", "directory of the recordings; empty means <data_dir>/recordings"},
		func(c *Config, v string) error { c.Recording.Dir = v; return nil }},
	{EnvVar{"NVR_RECORDING_MAX_AGE", "recording.max_age", "delete recordings older than this, e.g. 720h; 0 = keep until space is needed"},
		func(c *Config, v string) error { return setDuration(&c.Recording.MaxAge, v) }},
	{EnvVar{"NVR_RECORDING_MAX_BYTES", "recording.max_bytes", "quota of all recordings in bytes; 0 = none"},
		func(c *Config, v string) error { return setBytes(&c.Recording.MaxBytes, v) }},
	{EnvVar{"NVR_RECORDING_MIN_FREE_BYTES", "recording.min_free_bytes", "free disk space to keep, in bytes; 0 = none"},
		func(c *Config, v string) error { return setBytes(&c.Recording.MinFreeBytes, v) }},
}

// EnvVars lists the environment variables that ApplyEnv reads, in a stable order.
func EnvVars() []EnvVar {
	out := make([]EnvVar, len(envBindings))
	for i, b := range envBindings {
		out[i] = b.EnvVar
	}
	return out
}

// ApplyEnv overrides c with the environment variables listed by EnvVars, read through lookup
// (os.LookupEnv when nil). A variable that is set but empty counts as unset, because compose
// files and systemd units often pass "NVR_X=" for a variable they did not fill in. Errors name
// the variable, not the YAML key, since that is where the bad value came from.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var errs []error
	for _, b := range envBindings {
		v, ok := lookup(b.Name)
		if !ok || v == "" {
			continue
		}
		if err := b.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %w", b.Name, err))
		}
	}
	return errors.Join(errs...)
}

// setEnum sets *dst to v when v is one of allowed.
func setEnum(dst *string, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	*dst = v
	return nil
}

// setBytes parses a byte count into *dst.
func setBytes(dst *int64, v string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number of bytes", v)
	}
	*dst = n
	return nil
}

// setDuration parses v into *dst.
func setDuration(dst *Duration, v string) error {
	d, err := parseDuration(v)
	if err != nil {
		return err
	}
	*dst = d
	return nil
}
