package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/sip/gbsim"
)

// The GB28181 end-to-end tests run the real app in-process (SIP over UDP and
// TCP on 127.0.0.1, the HTTP API) and sip/gbsim devices against it.

const (
	// gbPassword is sip.password of the GB test apps.
	gbPassword = "gb-secret"
	// gbKeepalive and gbMisses make a silent device offline after 400 ms.
	gbKeepalive = 200 * time.Millisecond
	gbMisses    = 2
	// gbQueryTimeout is sip.query_timeout: how long a 504 takes.
	gbQueryTimeout = time.Second
)

// sipListening matches the log line that gives the SIP address.
var sipListening = regexp.MustCompile(`msg="sip server listening".*? addr=(\S+)`)

// gbEnv is an app with GB28181 signalling on short timers.
type gbEnv struct {
	*testApp
	sip string // host:port of the SIP server, UDP and TCP
}

// gbConfig shortens the SIP timers for tests.
func gbConfig(c *config.Config) {
	c.SIP.Password = gbPassword
	c.SIP.KeepaliveInterval = config.Duration(gbKeepalive)
	c.SIP.KeepaliveMisses = gbMisses
	c.SIP.QueryTimeout = config.Duration(gbQueryTimeout)
	c.SIP.CatalogTimeout = config.Duration(5 * time.Second)
}

// startGB starts an app with gbConfig and the options.
func startGB(t *testing.T, opts ...func(*config.Config)) *gbEnv {
	t.Helper()
	ta := startApp(t, append([]func(*config.Config){gbConfig}, opts...)...)
	e := &gbEnv{testApp: ta}
	eventually(t, "the SIP listening log line", func() bool {
		if m := sipListening.FindStringSubmatch(ta.logs.String()); m != nil {
			e.sip = m[1]
			return true
		}
		return false
	}, nil)
	return e
}

// freeSIPAddr returns a 127.0.0.1 address whose port is free for both UDP
// and TCP, for an app that must listen on the same SIP port again after a
// restart.
func freeSIPAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		addr := u.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		_ = u.Close()
		if err != nil {
			continue // taken for TCP: another port
		}
		_ = l.Close()
		return addr
	}
	t.Fatal("no port free for both UDP and TCP")
	return ""
}

// sim creates a simulated device of the app (not registered), closed when
// the test ends.
func (e *gbEnv) sim(t *testing.T, serial int, mutate func(*gbsim.Config)) *gbsim.Device {
	t.Helper()
	cfg := gbsim.Config{DeviceID: gbsim.MakeID(132, serial), Password: gbPassword, Server: e.sip, Timeout: 3 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := gbsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// register registers d, failing the test otherwise.
func register(t *testing.T, d *gbsim.Device) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.Register(ctx); err != nil {
		t.Fatalf("register %s: %v", d.ID(), err)
	}
}

// keepalives sends keepalives from d every gbKeepalive/2 until the returned
// stop is called (or the test ends).
func keepalives(t *testing.T, d *gbsim.Device) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(gbKeepalive / 2)
		defer tick.Stop()
		for {
			_ = d.Keepalive(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// gbDeviceJSON is a GB28181 device as the API shows it.
type gbDeviceJSON struct {
	ID              int64      `json:"id"`
	Type            string     `json:"type"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	Channels        int        `json:"channel_count"`
	GBID            string     `json:"gb_id"`
	Online          bool       `json:"online"`
	LastKeepalive   *time.Time `json:"last_keepalive"`
	RegisteredAt    *time.Time `json:"registered_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
	Manufacturer    string     `json:"manufacturer"`
	Model           string     `json:"model"`
	Firmware        string     `json:"firmware"`
	Transport       string     `json:"transport"`
	RemoteAddr      string     `json:"remote_addr"`
	Charset         string     `json:"charset"`
	StreamTransport string     `json:"stream_transport"`
	HasPassword     bool       `json:"has_password"`
	Longitude       *float64   `json:"longitude"`
	Latitude        *float64   `json:"latitude"`
}

// gbChannelJSON is a GB28181 channel as the API shows it.
type gbChannelJSON struct {
	ID           int64   `json:"id"`
	DeviceID     int64   `json:"device_id"`
	Name         string  `json:"name"`
	Status       string  `json:"status"`
	StreamStatus string  `json:"stream_status"`
	GBID         string  `json:"gb_id"`
	ParentID     string  `json:"parent_id"`
	Kind         string  `json:"kind"`
	PTZType      int     `json:"ptz_type"`
	CivilCode    string  `json:"civil_code"`
	Address      string  `json:"address"`
	Longitude    float64 `json:"longitude"`
	Latitude     float64 `json:"latitude"`
	Manufacturer string  `json:"manufacturer"`
	Model        string  `json:"model"`
}

// gbDevice returns the GB device with this GB ID, if the API lists it.
func (e *gbEnv) gbDevice(t *testing.T, gbID string) (gbDeviceJSON, bool) {
	t.Helper()
	var l list[gbDeviceJSON]
	e.with(t).api("GET", "/api/v1/devices?type=gb28181", nil, http.StatusOK, &l)
	for _, d := range l.Items {
		if d.GBID == gbID {
			return d, true
		}
	}
	return gbDeviceJSON{}, false
}

// waitDevice polls the GB device until cond holds and returns it.
func (e *gbEnv) waitDevice(t *testing.T, gbID, what string, cond func(gbDeviceJSON) bool) gbDeviceJSON {
	t.Helper()
	var d gbDeviceJSON
	var ok bool
	eventually(t, what, func() bool {
		d, ok = e.gbDevice(t, gbID)
		return ok && cond(d)
	}, func() string { return fmt.Sprintf("listed %v, last %+v", ok, d) })
	return d
}

// channels returns a device's channels by GB ID.
func (e *gbEnv) channels(t *testing.T, devID int64) map[string]gbChannelJSON {
	t.Helper()
	var l list[gbChannelJSON]
	e.with(t).api("GET", fmt.Sprintf("/api/v1/devices/%d/channels", devID), nil, http.StatusOK, &l)
	out := make(map[string]gbChannelJSON, len(l.Items))
	for _, c := range l.Items {
		out[c.GBID] = c
	}
	if len(out) != l.Total || len(l.Items) != l.Total {
		t.Fatalf("channel list: %d items, %d distinct GB IDs, total %d", len(l.Items), len(out), l.Total)
	}
	return out
}

// waitChannels polls a device's channels until cond holds.
func (e *gbEnv) waitChannels(t *testing.T, devID int64, what string, cond func(map[string]gbChannelJSON) bool) map[string]gbChannelJSON {
	t.Helper()
	var chans map[string]gbChannelJSON
	eventually(t, what, func() bool {
		chans = e.channels(t, devID)
		return cond(chans)
	}, func() string { return fmt.Sprintf("%d channels", len(chans)) })
	return chans
}

// ptzFrame is the PTZCmd the standard defines, computed here from its
// definition rather than with sip/ptz: A5 0F 01 cmd d1 d2 (d3<<4|addr-high)
// and the sum of those seven bytes mod 256.
func ptzFrame(cmd, d1, d2, d3 byte) string {
	b := []byte{0xA5, 0x0F, 0x01, cmd, d1, d2, d3 << 4}
	var sum byte
	for _, x := range b {
		sum += x
	}
	return fmt.Sprintf("%X%02X", b, sum)
}
