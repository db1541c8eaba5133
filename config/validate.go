package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The allowed values of the enumerated keys; they are never modified.
var (
	logLevels      = []string{"debug", "info", "warn", "error"}
	logFormats     = []string{"text", "json"}
	dbDrivers      = []string{"sqlite"}
	rtspTransports = []string{"auto", "tcp", "udp"}
)

// Limits of media.ring_size, in units of all tracks of a stream. Below minRingSize one GOP of a
// 25 fps camera with a 2 s keyframe interval (50 video units) hardly fits, so a new reader could
// not start at a keyframe; maxRingSize holds about 15 minutes of 25 fps video with AAC, far more
// than any reader may lag. An idle stream only holds one GOP whatever the size.
const (
	minRingSize = 64
	maxRingSize = 65536
)

// maxDiscoveryTimeout bounds onvif.discovery_timeout: cameras answer a probe within
// APP_MAX_DELAY (500 ms, WS-Discovery §3.1.3); longer only delays the result.
const maxDiscoveryTimeout = Duration(30 * time.Second)

// Limits of recording.segment_duration. A segment is the unit of the index, of retention and of
// crash loss: under a second it would only be a fragment; over an hour a crash loses too much and
// an export reads too much of a file it does not need.
const (
	minSegmentDuration = Duration(time.Second)
	maxSegmentDuration = Duration(time.Hour)
)

// minHLSSegments is the fewest segments a live playlist may list: the HLS spec (RFC 8216
// section 6.3.3) tells clients not to start closer than three target durations from the end.
const minHLSSegments = 3

// Validate checks every key and returns one error per bad value, each naming the YAML key,
// joined with errors.Join. It creates data_dir when missing and checks that it is writable,
// so that a bad directory stops the start-up instead of the first recording.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{key}, args...)...))
	}
	positive := func(key string, d Duration) {
		if d <= 0 {
			add(key, "%s must be greater than 0", d)
		}
	}
	enum := func(key, v string, allowed []string) {
		if !slices.Contains(allowed, v) {
			add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
		}
	}

	if !validHostPort(c.HTTP.Addr) {
		add("http.addr", "%q is not a valid host:port", c.HTTP.Addr)
	}
	for i, o := range c.HTTP.CORSOrigins {
		if !validOrigin(o) {
			add(fmt.Sprintf("http.cors_origins[%d]", i), `%q is not "*" or an origin such as https://nvr.example.com`, o)
		}
	}
	if err := checkDataDir(c.DataDir); err != nil {
		add("data_dir", "%v", err)
	}
	enum("log.level", c.Log.Level, logLevels)
	enum("log.format", c.Log.Format, logFormats)
	positive("auth.token_ttl", c.Auth.TokenTTL)
	enum("database.driver", c.Database.Driver, dbDrivers)
	positive("media.idle_timeout", c.Media.IdleTimeout)
	positive("media.start_timeout", c.Media.StartTimeout)
	if c.Media.RingSize < minRingSize || c.Media.RingSize > maxRingSize {
		add("media.ring_size", "%d is not between %d and %d", c.Media.RingSize, minRingSize, maxRingSize)
	}
	enum("rtsp.transport", c.RTSP.Transport, rtspTransports)
	positive("rtsp.connect_timeout", c.RTSP.ConnectTimeout)
	positive("rtsp.read_timeout", c.RTSP.ReadTimeout)
	positive("rtsp.backoff_min", c.RTSP.BackoffMin)
	positive("rtsp.backoff_max", c.RTSP.BackoffMax)
	if c.RTSP.BackoffMin > 0 && c.RTSP.BackoffMax > 0 && c.RTSP.BackoffMax < c.RTSP.BackoffMin {
		add("rtsp.backoff_max", "%s is less than rtsp.backoff_min (%s)", c.RTSP.BackoffMax, c.RTSP.BackoffMin)
	}
	positive("hls.segment_duration", c.HLS.SegmentDuration)
	if c.HLS.SegmentCount < minHLSSegments {
		add("hls.segment_count", "%d is less than %d, the fewest a live playlist may list", c.HLS.SegmentCount, minHLSSegments)
	}
	positive("hls.idle_timeout", c.HLS.IdleTimeout)

	sipPort := -1
	if !validHostPort(c.SIP.Addr) {
		add("sip.addr", "%q is not a valid host:port", c.SIP.Addr)
	} else if _, p, _ := net.SplitHostPort(c.SIP.Addr); p != "0" {
		sipPort, _ = strconv.Atoi(p)
	}
	if c.SIP.Host != "" && !validHost(c.SIP.Host) {
		add("sip.host", "%q is not an IP address or host name (without port)", c.SIP.Host)
	}
	if !digits(c.SIP.ID, gbIDLen) {
		add("sip.id", "%q is not a GB28181 ID of %d digits", c.SIP.ID, gbIDLen)
	}
	if !digits(c.SIP.Domain, gbDomainLen) {
		add("sip.domain", "%q is not a GB28181 domain of %d digits", c.SIP.Domain, gbDomainLen)
	}
	for i, id := range c.SIP.AllowList {
		if !digits(id, gbIDLen) {
			add(fmt.Sprintf("sip.allow_list[%d]", i), "%q is not a GB28181 ID of %d digits", id, gbIDLen)
		}
	}
	positive("sip.keepalive_interval", c.SIP.KeepaliveInterval)
	if c.SIP.KeepaliveMisses < 1 {
		add("sip.keepalive_misses", "%d is less than 1", c.SIP.KeepaliveMisses)
	}
	positive("sip.query_timeout", c.SIP.QueryTimeout)
	positive("sip.catalog_timeout", c.SIP.CatalogTimeout)
	positive("sip.register_expires_max", c.SIP.RegisterExpiresMax)
	positive("sip.invite_timeout", c.SIP.InviteTimeout)
	positive("rtp.no_media_timeout", c.RTP.NoMediaTimeout)
	positive("rtp.keyframe_timeout", c.RTP.KeyframeTimeout)
	if c.RTP.IP != "" {
		if ip := net.ParseIP(c.RTP.IP); ip == nil || ip.To4() == nil {
			add("rtp.ip", "%q is not an IPv4 address", c.RTP.IP)
		}
	}

	positive("onvif.timeout", c.ONVIF.Timeout)
	positive("onvif.poll_interval", c.ONVIF.PollInterval)
	if c.ONVIF.PollMisses < 1 {
		add("onvif.poll_misses", "%d is less than 1", c.ONVIF.PollMisses)
	}
	positive("onvif.snapshot_cache", c.ONVIF.SnapshotCache)
	positive("onvif.discovery_timeout", c.ONVIF.DiscoveryTimeout)
	if c.ONVIF.DiscoveryTimeout > maxDiscoveryTimeout {
		add("onvif.discovery_timeout", "%s is more than %s", c.ONVIF.DiscoveryTimeout, maxDiscoveryTimeout)
	}
	if d := c.ONVIF.DiscoveryInterval; d < 0 || d > 0 && d <= c.ONVIF.DiscoveryTimeout {
		add("onvif.discovery_interval", "%s is not 0 (off) or longer than onvif.discovery_timeout (%s)", d, c.ONVIF.DiscoveryTimeout)
	}
	for i, name := range c.ONVIF.DiscoveryInterfaces {
		if strings.TrimSpace(name) == "" {
			add(fmt.Sprintf("onvif.discovery_interfaces[%d]", i), "must not be empty")
		}
	}

	if c.Recording.Dir != "" {
		if err := checkDataDir(c.Recording.Dir); err != nil {
			add("recording.dir", "%v", err)
		}
	}
	if d := c.Recording.SegmentDuration; d < minSegmentDuration || d > maxSegmentDuration {
		add("recording.segment_duration", "%s is not between %s and %s", d, minSegmentDuration, maxSegmentDuration)
	}
	if c.Recording.MaxAge < 0 {
		add("recording.max_age", "%s is negative; 0 turns it off", c.Recording.MaxAge)
	}
	if c.Recording.MaxBytes < 0 {
		add("recording.max_bytes", "%d is negative; 0 turns it off", c.Recording.MaxBytes)
	}
	if c.Recording.MinFreeBytes < 0 {
		add("recording.min_free_bytes", "%d is negative; 0 turns it off", c.Recording.MinFreeBytes)
	}
	positive("recording.check_interval", c.Recording.CheckInterval)

	// The SIP server listens on UDP and TCP, and so do media sessions (UDP, TCP passive): one
	// port cannot serve both.
	if lo, hi, err := parsePortRange(c.RTP.Ports); err != nil {
		add("rtp.ports", "%v", err)
	} else if sipPort >= lo && sipPort <= hi {
		add("rtp.ports", "%s includes %d, the port of sip.addr", c.RTP.Ports, sipPort)
	}
	switch p := c.RTP.SinglePort; {
	case p == 0:
	case p < minRTPPort || p > 65535:
		add("rtp.single_port", "%d is not 0 (off) or a port within %d-65535", p, minRTPPort)
	case p == sipPort:
		add("rtp.single_port", "%d is the port of sip.addr", p)
	}
	return errors.Join(errs...)
}

// Lengths of GB/T 28181 identifiers (Appendix D): an ID has 20 digits, a domain the first 10 of
// the platform's ID.
const (
	gbIDLen     = 20
	gbDomainLen = 10
)

// digits reports whether s is exactly n ASCII digits.
func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validHost reports whether h is an IP address or a DNS host name (RFC 1123 labels), with no port.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// validHostPort reports whether addr is host:port with a numeric port, as net.Listen wants.
// The host may be empty (all interfaces); port 0 picks a free port, which tests use.
func validHostPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// validOrigin reports whether o is "*" or a browser origin: scheme://host[:port] and nothing more.
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}

// checkDataDir creates dir if needed and proves that files can be created in it.
func checkDataDir(dir string) error {
	if dir == "" {
		return errors.New("must not be empty")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cannot create %s: %v", dir, cause(err))
	}
	f, err := os.CreateTemp(dir, ".nvr-write-test-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %v", dir, cause(err))
	}
	name := f.Name()
	// The probe is empty and lives for microseconds; failures to clean it up are reported
	// because they mean the directory is not fully usable either.
	if err := errors.Join(f.Close(), os.Remove(name)); err != nil {
		return fmt.Errorf("%s is not writable: %v", dir, cause(err))
	}
	return nil
}

// cause strips the operation and path from a *fs.PathError ("mkdir /x: permission denied"),
// since our message already names the directory.
func cause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}
