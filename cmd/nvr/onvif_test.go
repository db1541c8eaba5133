package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/device/onvif/onvifsim"
	"github.com/nvr/nvr/media/testsrc"
)

// The ONVIF end-to-end tests run the real app in-process against onvifsim cameras whose stream
// URIs point at a testsrc RTSP server, over real sockets on 127.0.0.1.

const (
	// camUser and camPassword are the account of the simulated cameras, also required by the
	// RTSP server they point at.
	camUser     = "admin"
	camPassword = "cam-secret-7"
	// onvifTimeout is onvif.timeout of the test apps: how long a 504 takes.
	onvifTimeout = time.Second
)

// onvifConfig shortens the ONVIF timers for tests: a camera that stops answering is offline
// after two polls of 200 ms.
func onvifConfig(c *config.Config) {
	c.ONVIF.Timeout = config.Duration(onvifTimeout)
	c.ONVIF.PollInterval = config.Duration(200 * time.Millisecond)
	c.ONVIF.PollMisses = 2
	c.ONVIF.SnapshotCache = config.Duration(2 * time.Second)
}

// camSource starts an RTSP server that wants the cameras' account and serves the streams of
// the profiles Profile_1 to Profile_n (Hikvision's tokens).
func camSource(t *testing.T, n int) *testsrc.Server {
	t.Helper()
	src := newSource(t, testsrc.ServerConfig{Username: camUser, Password: camPassword}, "Profile_1", testsrc.ClipH264, testsrc.ClipAAC)
	for i := 2; i <= n; i++ {
		src.AddStream(fmt.Sprintf("Profile_%d", i), mustVideo(t, testsrc.ClipH264), nil)
	}
	return src
}

// newCamera starts a simulated Hikvision camera with the test account, a unicast discovery
// responder and stream URIs on src.
func newCamera(t *testing.T, src *testsrc.Server, mutate func(*onvifsim.Config)) *onvifsim.Server {
	t.Helper()
	cfg := onvifsim.Config{
		Username: camUser, Password: camPassword,
		RTSPURL:       "rtsp://" + src.Addr() + "/{token}",
		DiscoveryAddr: "127.0.0.1:0",
	}
	if mutate != nil {
		mutate(&cfg)
	}
	cam, err := onvifsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cam.Close)
	return cam
}

// onvifDeviceJSON is an ONVIF device as the API shows it.
type onvifDeviceJSON struct {
	ID            int64      `json:"id"`
	Type          string     `json:"type"`
	Name          string     `json:"name"`
	URL           string     `json:"url"`
	Channels      int        `json:"channel_count"`
	Online        bool       `json:"online"`
	LastKeepalive *time.Time `json:"last_keepalive"`
	Manufacturer  string     `json:"manufacturer"`
	Model         string     `json:"model"`
	Firmware      string     `json:"firmware"`
	HasPassword   bool       `json:"has_password"`
	XAddr         string     `json:"xaddr"`
	Username      string     `json:"username"`
	Serial        string     `json:"serial"`
	ClockOffsetMS int64      `json:"clock_offset_ms"`
	GBID          *string    `json:"gb_id"`
}

// onvifChannelJSON is an ONVIF channel as the API shows it.
type onvifChannelJSON struct {
	channelJSON
	ProfileToken string `json:"profile_token"`
	Role         string `json:"role"`
	Codec        string `json:"codec"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FPS          int    `json:"fps"`
	PTZ          bool   `json:"ptz"`
	Snapshot     string `json:"snapshot"`
}

// discoveredJSON is a camera found by discovery.
type discoveredJSON struct {
	Endpoint string   `json:"endpoint"`
	XAddrs   []string `json:"xaddrs"`
	Name     string   `json:"name"`
	Hardware string   `json:"hardware"`
	From     string   `json:"from"`
	Added    bool     `json:"added"`
	DeviceID int64    `json:"device_id"`
}

// discover runs a unicast discovery of the addresses.
func (ta *testApp) discover(addrs ...string) []discoveredJSON {
	ta.t.Helper()
	var l list[discoveredJSON]
	ta.api("POST", "/api/v1/onvif/discover", map[string]any{"addresses": addrs, "timeout_ms": 500}, http.StatusOK, &l)
	return l.Items
}

// addCamera onboards a camera and returns the device and its channels by role.
func (ta *testApp) addCamera(address, password string) (onvifDeviceJSON, map[string]onvifChannelJSON) {
	ta.t.Helper()
	var d onvifDeviceJSON
	ta.api("POST", "/api/v1/devices", map[string]any{"type": "onvif", "address": address, "username": camUser, "password": password},
		http.StatusCreated, &d)
	return d, ta.onvifChannels(d.ID)
}

// onvifChannels returns a device's channels by role.
func (ta *testApp) onvifChannels(deviceID int64) map[string]onvifChannelJSON {
	ta.t.Helper()
	var l list[onvifChannelJSON]
	ta.api("GET", fmt.Sprintf("/api/v1/devices/%d/channels", deviceID), nil, http.StatusOK, &l)
	out := map[string]onvifChannelJSON{}
	for _, ch := range l.Items {
		key := ch.Role
		if _, dup := out[key]; dup || key == "other" {
			key = ch.ProfileToken
		}
		out[key] = ch
	}
	return out
}

// lastPTZ returns the simulator's last PTZ call of the operation.
func lastPTZ(cam *onvifsim.Server, op string) (onvifsim.PTZCall, bool) {
	calls := cam.PTZCalls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Op == op {
			return calls[i], true
		}
	}
	return onvifsim.PTZCall{}, false
}

// TestONVIF walks the life of a camera: discovered, onboarded with one channel per profile,
// played as HTTP-FLV, its snapshot fetched, PTZ and presets driven, its profiles re-read, its
// reachability followed, and deleted.
func TestONVIF(t *testing.T) {
	t.Parallel()
	src := camSource(t, 3)
	cam := newCamera(t, src, nil)
	ta := startApp(t, onvifConfig)

	// Discovery, by unicast to the camera's responder.
	found := ta.discover(cam.DiscoveryAddr())
	if len(found) != 1 {
		t.Fatalf("discovery found %d cameras, want 1: %+v", len(found), found)
	}
	disc := found[0]
	if !strings.HasPrefix(disc.Endpoint, "urn:uuid:") || !slices.Contains(disc.XAddrs, cam.XAddr()) || disc.Added || disc.DeviceID != 0 {
		t.Errorf("discovered %+v, want endpoint, XAddr %s, not added", disc, cam.XAddr())
	}
	if disc.Name != "HIKVISION DS-2DE4425IW-DE" || disc.Hardware != "DS-2DE4425IW-DE" {
		t.Errorf("name %q hardware %q from the scopes", disc.Name, disc.Hardware)
	}

	// Onboarding with the XAddr the discovery gave.
	d, chans := ta.addCamera(disc.XAddrs[0], camPassword)
	if d.Type != "onvif" || d.Channels != 2 || !d.Online || !d.HasPassword || d.Username != camUser ||
		d.Manufacturer != "HIKVISION" || d.Model != "DS-2DE4425IW-DE" || d.Firmware == "" || d.Serial == "" ||
		d.XAddr != cam.XAddr() || d.URL != "" || d.GBID != nil || d.LastKeepalive == nil {
		t.Errorf("device %+v", d)
	}
	if d.Name != "HIKVISION DS-2DE4425IW-DE" {
		t.Errorf("name %q, want manufacturer and model", d.Name)
	}
	main, sub := chans["main"], chans["sub"]
	if len(chans) != 2 || main.ProfileToken != "Profile_1" || sub.ProfileToken != "Profile_2" {
		t.Fatalf("channels %+v, want main Profile_1 and sub Profile_2", chans)
	}
	if main.Name != d.Name+" main" || main.Codec != "H264" || main.Width != 1920 || main.Height != 1080 || main.FPS != 25 ||
		!main.PTZ || main.Status != "ON" || main.Snapshot != fmt.Sprintf("/api/v1/channels/%d/snapshot.jpg", main.ID) {
		t.Errorf("main channel %+v", main)
	}
	if sub.Name != d.Name+" sub" || sub.Width != 640 || sub.Height != 360 {
		t.Errorf("sub channel %+v", sub)
	}

	t.Run("discovery says added", func(t *testing.T) {
		ta := ta.with(t)
		found := ta.discover(cam.DiscoveryAddr())
		if len(found) != 1 || !found[0].Added || found[0].DeviceID != d.ID {
			t.Errorf("after onboarding: %+v, want added as device %d", found, d.ID)
		}
		var l list[discoveredJSON]
		ta.api("GET", "/api/v1/onvif/discovered", nil, http.StatusOK, &l)
		if len(l.Items) != 1 || !l.Items[0].Added {
			t.Errorf("GET discovered: %+v", l.Items)
		}
		// The same camera again, by host:port.
		st, body := ta.do("POST", "/api/v1/devices", ta.token, map[string]any{"type": "onvif", "address": cam.Addr(), "username": camUser, "password": camPassword})
		wantError(t, "adding the camera twice", st, body, http.StatusConflict, "conflict")
	})

	t.Run("main channel plays as HTTP-FLV", func(t *testing.T) {
		ta := ta.with(t)
		resp := ta.send("GET", main.Play.FLV+"?token="+ta.token, "", nil)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		readFLV(t, resp.Body, flvWant{video: "H264", audio: "AAC"}, 1000)
	})

	t.Run("snapshot", func(t *testing.T) {
		ta := ta.with(t)
		for range 2 { // the second comes from the cache
			resp := ta.send("GET", main.Snapshot+"?token="+ta.token, "", nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(b, cam.Snapshot()) {
				t.Fatalf("snapshot: %d %q, %d bytes (want %d)", resp.StatusCode, resp.Header.Get("Content-Type"), len(b), len(cam.Snapshot()))
			}
		}
		resp := ta.send("GET", main.Snapshot, "", nil) // no token
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("snapshot without a token: %d", resp.StatusCode)
		}
	})

	t.Run("PTZ", func(t *testing.T) {
		ta := ta.with(t)
		ptz := func(body map[string]any) {
			t.Helper()
			ta.api("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID), body, http.StatusNoContent, nil)
		}
		ptz(map[string]any{"action": "up_left", "speed": 255})
		if c, ok := lastPTZ(cam, "ContinuousMove"); !ok || c.ProfileToken != "Profile_1" || c.Pan != -1 || c.Tilt != 1 || c.HasZoom {
			t.Errorf("up_left: %+v", c)
		}
		ptz(map[string]any{"action": "zoom_out"})
		if c, _ := lastPTZ(cam, "ContinuousMove"); c.HasPanTilt || c.Zoom >= 0 || c.Zoom < -0.6 {
			t.Errorf("zoom_out at the default speed: %+v", c)
		}
		ptz(map[string]any{"action": "stop"})
		if c, ok := lastPTZ(cam, "Stop"); !ok || c.ProfileToken != "Profile_1" {
			t.Errorf("stop: %+v", c)
		}

		var presets list[struct {
			ID    int    `json:"id"`
			Name  string `json:"name"`
			Token string `json:"token"`
		}]
		ta.api("GET", fmt.Sprintf("/api/v1/channels/%d/presets", main.ID), nil, http.StatusOK, &presets)
		if presets.Total != 4 || presets.Items[1].ID != 2 || presets.Items[1].Name != "Preset 2" || presets.Items[1].Token != "2" {
			t.Fatalf("presets %+v", presets)
		}
		ptz(map[string]any{"action": "preset_call", "preset": 2})
		if c, ok := lastPTZ(cam, "GotoPreset"); !ok || c.PresetToken != "2" {
			t.Errorf("preset_call: %+v", c)
		}
		ptz(map[string]any{"action": "preset_set", "preset": 3}) // overwrites preset 3
		if c, ok := lastPTZ(cam, "SetPreset"); !ok || c.PresetToken != "3" {
			t.Errorf("preset_set 3: %+v", c)
		}
		ptz(map[string]any{"action": "preset_set", "preset": 9}) // a new one
		ptz(map[string]any{"action": "preset_delete", "preset": 1})
		var tokens []string
		for _, p := range cam.Presets() {
			tokens = append(tokens, p.Token)
		}
		if !slices.Equal(tokens, []string{"2", "3", "4", "5"}) {
			t.Errorf("camera presets %v after set 9 and delete 1", tokens)
		}
		st, body := ta.do("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID), ta.token, map[string]any{"action": "preset_call", "preset": 1})
		wantError(t, "calling a deleted preset", st, body, http.StatusBadRequest, "bad_request")
		st, body = ta.do("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID), ta.token, map[string]any{"action": "focus_near"})
		wantError(t, "focus", st, body, http.StatusBadRequest, "not_supported")
		st, body = ta.do("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID), ta.token, map[string]any{"action": "spin"})
		wantError(t, "unknown action", st, body, http.StatusBadRequest, "bad_request")
	})

	t.Run("PATCH and sync re-read the profiles", func(t *testing.T) {
		ta := ta.with(t)
		// The camera moves to another address, where it has three profiles now.
		cam3 := newCamera(t, src, func(c *onvifsim.Config) {
			c.Profiles = append(onvifsim.DefaultProfiles(), onvifsim.Profile{Encoding: "H264", Width: 320, Height: 240, FPS: 10})
		})
		st, body := ta.do("PATCH", fmt.Sprintf("/api/v1/devices/%d", d.ID), ta.token, map[string]any{"address": cam3.Addr(), "password": "wrong"})
		wantError(t, "PATCH with a wrong password", st, body, http.StatusUnprocessableEntity, "onvif_unauthorized")
		var got onvifDeviceJSON
		ta.api("PATCH", fmt.Sprintf("/api/v1/devices/%d", d.ID), map[string]any{"address": cam3.Addr(), "name": "Gate"}, http.StatusOK, &got)
		if got.XAddr != cam3.XAddr() || got.Name != "Gate" || got.Channels != 3 {
			t.Errorf("after PATCH: %+v", got)
		}
		chans := ta.onvifChannels(d.ID)
		if chans["main"].ID != main.ID || chans["main"].Name != main.Name || chans["Profile_3"].Name != "Gate thirdStream" {
			t.Errorf("channels after PATCH %+v: main kept, Profile_3 added", chans)
		}
		var res struct{ Added, Updated, Removed, Total int }
		ta.api("POST", fmt.Sprintf("/api/v1/devices/%d/sync", d.ID), nil, http.StatusOK, &res)
		if res.Added != 0 || res.Updated != 0 || res.Removed != 0 || res.Total != 3 {
			t.Errorf("sync of an unchanged camera: %+v", res)
		}
		// Back to the first camera, with two profiles: the third channel goes.
		ta.api("PATCH", fmt.Sprintf("/api/v1/devices/%d", d.ID), map[string]any{"address": cam.XAddr()}, http.StatusOK, &got)
		if got.Channels != 2 {
			t.Errorf("after moving back: %d channels", got.Channels)
		}
	})

	t.Run("reachability", func(t *testing.T) {
		ta := ta.with(t)
		cam.Misbehave("GetSystemDateAndTime", onvifsim.Misbehaviour{Status: http.StatusServiceUnavailable, Body: "busy", ContentType: "text/plain"})
		ta.waitChannel(main.ID, "the main channel OFF while the camera does not answer", func(ch channelJSON) bool { return ch.Status == "OFF" })
		var dev onvifDeviceJSON
		ta.api("GET", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil, http.StatusOK, &dev)
		if dev.Online {
			t.Errorf("device online while its channel is OFF: %+v", dev)
		}
		cam.Behave("GetSystemDateAndTime")
		ta.waitChannel(main.ID, "the main channel ON again", func(ch channelJSON) bool { return ch.Status == "ON" })
		eventually(t, "the device online again", func() bool {
			ta.api("GET", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil, http.StatusOK, &dev)
			return dev.Online
		}, nil)
	})

	t.Run("camera misbehaves", func(t *testing.T) {
		ta := ta.with(t)
		path := fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID)
		presets := fmt.Sprintf("/api/v1/channels/%d/presets", main.ID)
		cam.Misbehave("ContinuousMove", onvifsim.Misbehaviour{Body: `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><tptz:ContinuousMoveRes`})
		st, body := ta.do("POST", path, ta.token, map[string]any{"action": "left"})
		wantError(t, "malformed SOAP", st, body, http.StatusBadGateway, "device_error")
		cam.Misbehave("GetPresets", onvifsim.Misbehaviour{Status: 500, Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "Action/Busy", Reason: "PTZ busy"}})
		st, body = ta.do("GET", presets, ta.token, nil)
		if e := wantError(t, "HTTP 500 fault", st, body, http.StatusBadGateway, "device_error"); !strings.Contains(e.Error.Message, "PTZ busy") {
			t.Errorf("fault message %q does not say what the camera said", e.Error.Message)
		}
		cam.Misbehave("Stop", onvifsim.Misbehaviour{Delay: 3 * onvifTimeout})
		st, body = ta.do("POST", path, ta.token, map[string]any{"action": "stop"})
		wantError(t, "a camera that does not answer", st, body, http.StatusGatewayTimeout, "device_timeout")
		for _, op := range []string{"ContinuousMove", "GetPresets", "Stop"} {
			cam.Behave(op)
		}
		ta.api("POST", path, map[string]any{"action": "stop"}, http.StatusNoContent, nil)
	})

	t.Run("delete", func(t *testing.T) {
		ta := ta.with(t)
		ta.api("GET", main.Snapshot, nil, http.StatusOK, nil) // cached now
		ta.api("DELETE", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil, http.StatusNoContent, nil)
		st, body := ta.do("GET", main.Snapshot, ta.token, nil)
		wantError(t, "snapshot of a deleted channel", st, body, http.StatusNotFound, "not_found")
		if found := ta.discover(cam.DiscoveryAddr()); len(found) != 1 || found[0].Added {
			t.Errorf("discovery after delete: %+v", found)
		}
	})

	for _, b := range ta.apiBodies() {
		if strings.Contains(b, camPassword) {
			t.Errorf("the camera password is in an API answer: %s", b)
		}
	}
}

// TestONVIFOnboardingErrors checks that every way onboarding fails gives a clear error and
// leaves no device or channel behind.
func TestONVIFOnboardingErrors(t *testing.T) {
	t.Parallel()
	src := camSource(t, 2)
	cam := newCamera(t, src, nil)
	fixed := newCamera(t, src, func(c *onvifsim.Config) { c.NoPTZ = true; c.Vendor = onvifsim.VendorDahua })
	ta := startApp(t, onvifConfig)

	add := func(address, password string) (int, []byte) {
		return ta.do("POST", "/api/v1/devices", ta.token, map[string]any{"type": "onvif", "address": address, "username": camUser, "password": password})
	}
	cases := []struct {
		name      string
		op        string // misbehaving operation
		m         onvifsim.Misbehaviour
		address   string
		password  string
		status    int
		code, msg string
	}{
		{name: "wrong password", password: "wrong", status: http.StatusUnprocessableEntity, code: "onvif_unauthorized"},
		{name: "not an ONVIF host", address: strings.TrimPrefix(ta.base, "http://"), status: http.StatusUnprocessableEntity, code: "not_onvif"},
		{name: "nothing listening", address: "127.0.0.1:1", status: http.StatusBadGateway, code: "device_unreachable"},
		{name: "malformed SOAP", op: "GetDeviceInformation", m: onvifsim.Misbehaviour{Body: `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>HIK`},
			status: http.StatusBadGateway, code: "device_error"},
		{name: "HTTP 500 SOAP fault", op: "GetProfiles", m: onvifsim.Misbehaviour{Status: 500, Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "Action/Failed", Reason: "media service down"}},
			status: http.StatusBadGateway, code: "device_error", msg: "media service down"},
		{name: "empty success", op: "GetProfiles", m: onvifsim.Misbehaviour{Body: `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body></s:Body></s:Envelope>`},
			status: http.StatusBadGateway, code: "device_error"},
		{name: "timeout", op: "GetCapabilities", m: onvifsim.Misbehaviour{Delay: 3 * onvifTimeout}, status: http.StatusGatewayTimeout, code: "device_timeout"},
		{name: "timeout of the first request", op: "GetSystemDateAndTime", m: onvifsim.Misbehaviour{Delay: 3 * onvifTimeout}, status: http.StatusGatewayTimeout, code: "device_timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ta := ta.with(t)
			if c.op != "" {
				cam.Misbehave(c.op, c.m)
				defer cam.Behave(c.op)
			}
			st, body := add(cmp.Or(c.address, cam.XAddr()), cmp.Or(c.password, camPassword))
			if e := wantError(t, "onboarding", st, body, c.status, c.code); c.msg != "" && !strings.Contains(e.Error.Message, c.msg) {
				t.Errorf("message %q does not say %q", e.Error.Message, c.msg)
			}
			var devs list[deviceJSON]
			ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &devs)
			var chans list[channelJSON]
			ta.api("GET", "/api/v1/channels", nil, http.StatusOK, &chans)
			if devs.Total != 0 || chans.Total != 0 {
				t.Errorf("%d devices and %d channels left after a failed onboarding", devs.Total, chans.Total)
			}
		})
	}

	t.Run("bad requests", func(t *testing.T) {
		ta := ta.with(t)
		st, body := ta.do("POST", "/api/v1/devices", ta.token, map[string]any{"type": "onvif"})
		wantError(t, "no address", st, body, http.StatusBadRequest, "bad_request")
		st, body = add("ftp://camera", camPassword)
		wantError(t, "bad address", st, body, http.StatusBadRequest, "bad_request")
		st, body = ta.do("POST", "/api/v1/onvif/discover", ta.token, map[string]any{"addresses": []string{"127.0.0.1:3702"}, "timeout_ms": 60000})
		wantError(t, "discovery timeout too long", st, body, http.StatusBadRequest, "bad_request")
		st, body = ta.do("POST", "/api/v1/onvif/discover", ta.token, map[string]any{"interfaces": []string{"no-such-if0"}})
		wantError(t, "unknown interface", st, body, http.StatusBadRequest, "bad_request")
	})

	t.Run("fixed camera", func(t *testing.T) {
		ta := ta.with(t)
		d, chans := ta.addCamera(fixed.URL(), camPassword)
		if d.Manufacturer != "Dahua" || len(chans) != 2 || chans["main"].PTZ {
			t.Fatalf("fixed Dahua camera: %+v %+v", d, chans)
		}
		st, body := ta.do("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", chans["main"].ID), ta.token, map[string]any{"action": "left"})
		wantError(t, "PTZ on a fixed camera", st, body, http.StatusBadRequest, "not_supported")
		st, body = ta.do("GET", fmt.Sprintf("/api/v1/channels/%d/presets", chans["main"].ID), ta.token, nil)
		wantError(t, "presets of a fixed camera", st, body, http.StatusBadRequest, "not_supported")
		resp := ta.send("GET", chans["sub"].Snapshot+"?token="+ta.token, "", nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, fixed.Snapshot()) {
			t.Errorf("snapshot of the Dahua camera: %d, %d bytes", resp.StatusCode, len(b))
		}
	})

	t.Run("RTSP channel", func(t *testing.T) {
		ta := ta.with(t)
		_, ch := ta.addDevice("plain", credURL(src, camUser, camPassword, "Profile_2"))
		st, body := ta.do("GET", fmt.Sprintf("/api/v1/channels/%d/snapshot.jpg", ch.ID), ta.token, nil)
		wantError(t, "snapshot of an RTSP channel", st, body, http.StatusBadRequest, "bad_request")
		st, body = ta.do("POST", fmt.Sprintf("/api/v1/devices/%d/sync", ch.DeviceID), ta.token, nil)
		if st == http.StatusOK {
			t.Errorf("sync of an RTSP device: %d %s", st, body)
		}
	})
}

// TestONVIFClockOffset onboards a camera whose clock is 10 minutes off, which refuses tokens
// signed with our clock, and drives it afterwards.
func TestONVIFClockOffset(t *testing.T) {
	t.Parallel()
	src := camSource(t, 2)
	cam := newCamera(t, src, func(c *onvifsim.Config) { c.ClockOffset = 10 * time.Minute; c.Vendor = onvifsim.VendorAxis })
	ta := startApp(t, onvifConfig)

	d, chans := ta.addCamera(cam.XAddr(), camPassword)
	if off := time.Duration(d.ClockOffsetMS) * time.Millisecond; (off - 10*time.Minute).Abs() > 2*time.Second {
		t.Errorf("clock offset %s, want 10m", off)
	}
	main, ok := chans["main"]
	if !ok {
		t.Fatalf("no main channel: %+v", chans)
	}
	ta.api("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID), map[string]any{"action": "right"}, http.StatusNoContent, nil)
	if c, ok := lastPTZ(cam, "ContinuousMove"); !ok || c.Pan <= 0 {
		t.Errorf("right: %+v", c)
	}
	for _, r := range cam.Requests() {
		if r.Refused {
			t.Errorf("the camera refused %s: the token was not signed with its clock", r.Op)
		}
	}
	// The camera's clock jumps (an NTP sync): the poll measures it again and requests keep working.
	cam.SetClockOffset(-5 * time.Minute)
	eventually(t, "the new clock offset stored", func() bool {
		var got onvifDeviceJSON
		ta.api("GET", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil, http.StatusOK, &got)
		return (time.Duration(got.ClockOffsetMS)*time.Millisecond + 5*time.Minute).Abs() < 2*time.Second
	}, nil)
	ta.api("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", main.ID), map[string]any{"action": "stop"}, http.StatusNoContent, nil)
}
