package onvif

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/nvr/nvr/device/onvif/onvifsim"
	"github.com/nvr/nvr/media/testsrc"
)

// TestProbe onboards a simulated camera of each vendor whose clock is ten
// minutes off, and checks that the stream URI it reports really plays.
func TestProbe(t *testing.T) {
	checkGoroutines(t)
	rtsp, err := testsrc.NewServer(testsrc.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rtsp.Close)
	clip, err := testsrc.LoadVideo(testsrc.ClipH264)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range onvifsim.Vendors {
		t.Run(string(v), func(t *testing.T) {
			// Each vendor's tokens become stream paths.
			sim := newSim(t, onvifsim.Config{Vendor: v, ClockOffset: 10 * time.Minute, RTSPURL: rtsp.URL(string(v) + "/{token}")})
			d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
			if err != nil {
				t.Fatal(err)
			}
			if off := d.ClockOffset - 10*time.Minute; off < -2*time.Second || off > 2*time.Second {
				t.Errorf("clock offset %v, want about 10m", d.ClockOffset)
			}
			want := map[onvifsim.Vendor][2]string{
				onvifsim.VendorHikvision: {"HIKVISION", "DS-2DE4425IW-DE"},
				onvifsim.VendorDahua:     {"Dahua", "SD49225XA-HNR"},
				onvifsim.VendorAxis:      {"AXIS", "Q6075-E"},
			}[v]
			if d.Manufacturer != want[0] || d.Model != want[1] || d.Firmware == "" || d.Serial == "" || d.HardwareID == "" {
				t.Errorf("identity %+v", d)
			}
			if d.XAddr != sim.URL() || !strings.HasPrefix(d.MediaXAddr, "http://"+sim.Addr()+"/") || !strings.HasPrefix(d.PTZXAddr, "http://"+sim.Addr()+"/") {
				t.Errorf("addresses %s %s %s", d.XAddr, d.MediaXAddr, d.PTZXAddr)
			}
			if len(d.Profiles) != 2 {
				t.Fatalf("%d profiles", len(d.Profiles))
			}
			for i, w := range []struct {
				role          string
				width, height int
			}{{RoleMain, 1920, 1080}, {RoleSub, 640, 360}} {
				p := d.Profiles[i]
				if p.Role != w.role || p.Codec != CodecH264 || p.Width != w.width || p.Height != w.height || !p.PTZ || p.FPS == 0 || p.BitrateKbps == 0 {
					t.Errorf("profile %d: %+v", i, p)
				}
				if p.StreamURI != rtsp.URL(string(v)+"/"+p.Token) {
					t.Errorf("profile %d stream URI %s", i, p.StreamURI)
				}
				if !strings.HasPrefix(p.SnapshotURI, "http://"+sim.Addr()+onvifsim.SnapshotPath) {
					t.Errorf("profile %d snapshot URI %s", i, p.SnapshotURI)
				}
			}
			for _, r := range sim.Requests() {
				if r.Refused {
					t.Errorf("request %s was refused", r.Op)
				}
				if (r.Op == "GetSystemDateAndTime") != (r.Auth == "") {
					t.Errorf("request %s authenticated with %q", r.Op, r.Auth)
				}
			}

			// The main stream URI plays.
			rtsp.AddStream(string(v)+"/"+d.Profiles[0].Token, clip, nil)
			var h264 *format.H264
			if describe(t, d.Profiles[0].StreamURI).FindFormat(&h264) == nil {
				t.Fatalf("%s has no H.264 track", d.Profiles[0].StreamURI)
			}
		})
	}
}

// describe returns the RTSP DESCRIBE answer of uri.
func describe(t *testing.T, uri string) *description.Session {
	t.Helper()
	u, err := base.ParseURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	c := gortsplib.Client{}
	if err := c.Start(u.Scheme, u.Host); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", uri, err)
	}
	return desc
}

func TestProbeClockOffsets(t *testing.T) {
	checkGoroutines(t)
	for _, off := range []time.Duration{0, -10 * time.Minute, 26 * time.Hour, -3 * 365 * 24 * time.Hour} {
		t.Run(off.String(), func(t *testing.T) {
			sim := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorDahua, ClockOffset: off})
			d, err := Probe(testContext(t), sim.URL(), testUser, testPass, WithTransport(loopbackTransport(t)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := d.ClockOffset - off; diff < -2*time.Second || diff > 2*time.Second {
				t.Errorf("offset %v, want %v", d.ClockOffset, off)
			}
		})
	}
}

func TestProbeWrongPassword(t *testing.T) {
	checkGoroutines(t)
	cases := []struct {
		name   string
		cfg    onvifsim.Config
		fault  bool
		status int
	}{
		{"token 401", onvifsim.Config{}, true, 401},
		{"token 400", onvifsim.Config{AuthFailStatus: 400}, true, 400},
		{"digest camera", onvifsim.Config{Auth: onvifsim.AuthHTTPDigest, Vendor: onvifsim.VendorAxis}, true, 401},
		{"either", onvifsim.Config{Auth: onvifsim.AuthEither, Vendor: onvifsim.VendorDahua}, true, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, c.cfg)
			d, err := Probe(testContext(t), sim.Addr(), testUser, "wrong", WithTransport(loopbackTransport(t)))
			if !errors.Is(err, ErrUnauthorized) || d != nil {
				t.Fatalf("err = %v, d = %v; want ErrUnauthorized", err, d)
			}
			fe, ok := errors.AsType[*FaultError](err)
			if ok != c.fault || (ok && (fe.Subcode != "NotAuthorized" || fe.HTTPStatus != c.status)) {
				t.Errorf("fault = %+v", fe)
			}
		})
	}
	t.Run("no user", func(t *testing.T) {
		sim := newSim(t, onvifsim.Config{})
		_, err := Probe(testContext(t), sim.Addr(), "", "", WithTransport(loopbackTransport(t)))
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestProbeDigestOnlyCamera(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{Auth: onvifsim.AuthHTTPDigest, Vendor: onvifsim.VendorAxis, ClockOffset: time.Hour})
	d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Profiles) != 2 {
		t.Fatalf("%d profiles", len(d.Profiles))
	}
	var digest int
	for _, r := range sim.Requests() {
		if r.Auth == "digest" && !r.Refused {
			digest++
		}
	}
	if digest == 0 {
		t.Error("no request authenticated with HTTP digest")
	}
}

func TestProbeFaults(t *testing.T) {
	checkGoroutines(t)
	truncated := string(readTestdata(t, "soap/GetProfiles_truncated.xml"))
	cases := []struct {
		name string
		op   string
		m    onvifsim.Misbehaviour
		want error
		code string
	}{
		{"500 fault", "GetProfiles", onvifsim.Misbehaviour{Status: 500, Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "Action/AgainLater", Reason: "busy"}}, &FaultError{}, "AgainLater"},
		{"sender fault", "GetDeviceInformation", onvifsim.Misbehaviour{Fault: &onvifsim.Fault{Code: "Sender", Subcode: "InvalidArgVal", Reason: "no"}}, &FaultError{}, "InvalidArgVal"},
		{"truncated XML", "GetProfiles", onvifsim.Misbehaviour{Body: truncated}, ErrBadResponse, ""},
		{"garbage", "GetCapabilities", onvifsim.Misbehaviour{Body: "\x00\xffnot xml"}, ErrNotONVIF, ""},
		{"empty body", "GetDeviceInformation", onvifsim.Misbehaviour{Body: "", Status: 200}, ErrNotONVIF, ""},
		{"html 200", "GetSystemDateAndTime", onvifsim.Misbehaviour{Body: string(readTestdata(t, "soap/not_onvif.html")), ContentType: "text/html"}, ErrNotONVIF, ""},
		{"500 empty", "GetProfiles", onvifsim.Misbehaviour{Status: 500}, ErrNotONVIF, ""},
		{"wrong reply", "GetProfiles", onvifsim.Misbehaviour{Body: string(readTestdata(t, "sim/hikvision/GetDeviceInformation.xml"))}, ErrBadResponse, ""},
		{"stream URI without Uri", "GetStreamUri", onvifsim.Misbehaviour{Body: strings.Replace(string(readTestdata(t, "sim/hikvision/GetStreamUri.xml")), "<tt:Uri>", "<tt:X>", 1)}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, onvifsim.Config{})
			sim.Misbehave(c.op, c.m)
			d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
			if c.want == nil {
				// A broken GetStreamUri reply costs that URI, not the probe.
				if err != nil || d.Profiles[0].StreamURI != "" {
					t.Fatalf("err = %v, d = %+v", err, d)
				}
				return
			}
			if d != nil {
				t.Errorf("got a description with error %v", err)
			}
			if _, ok := c.want.(*FaultError); ok {
				fe, ok := errors.AsType[*FaultError](err)
				if !ok || fe.Subcode != c.code || (c.m.Status != 0 && fe.HTTPStatus != c.m.Status) {
					t.Fatalf("err = %v, want a fault %s", err, c.code)
				}
				if errors.Is(err, ErrUnauthorized) {
					t.Error("fault matches ErrUnauthorized")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestProbeTimeout(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{})
	sim.Misbehave("GetDeviceInformation", onvifsim.Misbehaviour{Delay: time.Minute})
	start := time.Now()
	_, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTimeout(300*time.Millisecond), WithTransport(loopbackTransport(t)))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}

	// The context's deadline counts as well.
	ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
	defer cancel()
	if _, err := Probe(ctx, sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t))); !errors.Is(err, ErrTimeout) {
		t.Fatalf("ctx deadline: err = %v, want ErrTimeout", err)
	}
}

func TestProbeNotONVIF(t *testing.T) {
	checkGoroutines(t)
	html := readTestdata(t, "soap/not_onvif.html")
	handlers := map[string]http.HandlerFunc{
		"html page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write(html)
		},
		"404": http.NotFound,
		"json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"error":"unknown"}`))
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			_, err := Probe(testContext(t), srv.URL, testUser, testPass, WithTransport(loopbackTransport(t)))
			if !errors.Is(err, ErrNotONVIF) {
				t.Fatalf("err = %v, want ErrNotONVIF", err)
			}
		})
	}
}

// TestProbeNAT is a camera behind port forwarding: it reports its private
// address in every XAddr and URI.
func TestProbeNAT(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorHikvision, Advertise: "192.168.1.64:80"})
	d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	if d.MediaXAddr != "http://"+sim.Addr()+"/onvif/Media" || d.PTZXAddr != "http://"+sim.Addr()+"/onvif/PTZ" {
		t.Errorf("service addresses %s %s", d.MediaXAddr, d.PTZXAddr)
	}
	p := d.Profiles[0]
	if p.StreamURI != "rtsp://127.0.0.1:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1" {
		t.Errorf("stream URI %s", p.StreamURI)
	}
	if p.SnapshotURI != "http://"+sim.Addr()+"/snapshot.jpg?profile=Profile_1" {
		t.Errorf("snapshot URI %s", p.SnapshotURI)
	}
}

func TestGetServicesFallback(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorDahua})
	sim.Misbehave("GetCapabilities", onvifsim.Misbehaviour{Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "deprecated"}})
	d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	if d.MediaXAddr != "http://"+sim.Addr()+"/onvif/media_service" || d.PTZXAddr != "http://"+sim.Addr()+"/onvif/ptz_service" || len(d.Profiles) != 2 {
		t.Errorf("%+v", d)
	}
}

// TestClockJump: the camera's clock moves after the client measured it
// (an NTP sync after boot); the client measures again and retries.
func TestClockJump(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{})
	c, err := NewClient(sim.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	if _, err := c.SyncClock(ctx); err != nil {
		t.Fatal(err)
	}
	sim.SetClockOffset(-2 * time.Hour)
	info, err := c.GetDeviceInformation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Manufacturer != "HIKVISION" {
		t.Errorf("%+v", info)
	}
	if off := c.ClockOffset(); off > -2*time.Hour+2*time.Second || off < -2*time.Hour-2*time.Second {
		t.Errorf("offset %v", off)
	}
}

func TestSnapshot(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorDahua})
	d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	uri := d.Profiles[1].SnapshotURI
	img, err := FetchSnapshot(testContext(t), uri, testUser, testPass, WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img, sim.Snapshot()) {
		t.Fatalf("got %d bytes, not the simulator's JPEG", len(img))
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 320 || cfg.Height != 180 {
		t.Errorf("jpeg: %+v, %v", cfg, err)
	}
	// Credentials in the URI are used, not sent unasked.
	withCreds := strings.Replace(uri, "http://", "http://"+testUser+":"+strings.NewReplacer("&", "%26", "<", "%3C", ">", "%3E").Replace(testPass)+"@", 1)
	if _, err := FetchSnapshot(testContext(t), withCreds, "", "", WithTransport(loopbackTransport(t))); err != nil {
		t.Errorf("credentials in URI: %v", err)
	}
	if _, err := FetchSnapshot(testContext(t), uri, testUser, "wrong", WithTransport(loopbackTransport(t))); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong password: %v", err)
	}
	c, err := NewClient(sim.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if img, err := c.Snapshot(testContext(t), uri); err != nil || !bytes.Equal(img, sim.Snapshot()) {
		t.Errorf("Client.Snapshot: %d bytes, %v", len(img), err)
	}
}

func TestSnapshotNotJPEG(t *testing.T) {
	checkGoroutines(t)
	cases := map[string]struct {
		h    http.HandlerFunc
		want error
	}{
		"html": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html></html>"))
		}, ErrNotJPEG},
		"jpeg type, html bytes": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write([]byte("<html></html>"))
		}, ErrNotJPEG},
		"too large": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(jpegSOI)
			w.Write(make([]byte, MaxSnapshotBytes))
		}, ErrSnapshotTooLarge},
		"401 basic": {func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); ok && u == "u" && p == "p" {
				w.Header().Set("Content-Type", "image/jpg")
				w.Write(append(append([]byte{}, jpegSOI...), 0xE0))
				return
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="cam"`)
			w.WriteHeader(401)
		}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			_, err := FetchSnapshot(testContext(t), srv.URL+"/snap", "u", "p", WithTransport(loopbackTransport(t)))
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestProbeAuthAlways is firmware that wants authentication even for
// GetSystemDateAndTime: the clock is then read with a token made from the
// host clock, and a wrong password ends the probe at once.
func TestProbeAuthAlways(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{AuthAlways: true, Vendor: onvifsim.VendorAxis})
	if _, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t))); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Probe(testContext(t), sim.Addr(), testUser, "wrong", WithTransport(loopbackTransport(t)))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	if n := len(sim.Requests()); n > 12 || time.Since(start) > 2*time.Second {
		t.Errorf("%d requests in %v", n, time.Since(start))
	}
}

// TestClientConcurrent shares one client between goroutines, as the
// device service will for a camera's PTZ and snapshot requests.
func TestClientConcurrent(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{ClockOffset: 3 * time.Minute})
	c, err := NewClient(sim.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	if _, err := c.SyncClock(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 8 {
		wg.Go(func() {
			if _, err := c.GetProfiles(ctx); err != nil {
				errs <- err
			}
			if err := c.ContinuousMove(ctx, "Profile_1", Velocity{Pan: float64(i) / 10}, time.Second); err != nil {
				errs <- err
			}
			if i%4 == 0 {
				if _, err := c.SyncClock(ctx); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(sim.PTZCalls()); n != 8 {
		t.Errorf("%d PTZ calls", n)
	}
}
