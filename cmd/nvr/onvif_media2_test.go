package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/device/onvif/onvifsim"
	"github.com/nvr/nvr/media/testsrc"
)

// h265Source serves what an onvifsim camera with onvifsim.H265Profiles streams: H.265 at
// Profile_1 (the main stream, listed by Media2 only) and H.264 at Profile_2.
func h265Source(t *testing.T) *testsrc.Server {
	t.Helper()
	src := newSource(t, testsrc.ServerConfig{Username: camUser, Password: camPassword}, "Profile_1", testsrc.ClipH265, "")
	src.AddStream("Profile_2", mustVideo(t, testsrc.ClipH264), nil)
	return src
}

// notSupported is the fault of firmware that lacks an operation.
var notSupported = onvifsim.Misbehaviour{Status: http.StatusBadRequest,
	Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "Optional Action Not Implemented"}}

// TestONVIFMedia2 onboards Profile T cameras whose main stream is H.265, which only Media2
// describes: one that lists Media2 from the start, and one whose firmware lists it only after
// an upgrade, re-read then without its H.264 channel becoming another channel.
func TestONVIFMedia2(t *testing.T) {
	t.Parallel()
	src := h265Source(t)
	media2 := func(c *onvifsim.Config) { c.Media2 = true; c.Profiles = onvifsim.H265Profiles() }
	cam := newCamera(t, src, media2)
	ta := startApp(t, onvifConfig)

	d, chans := ta.addCamera(cam.XAddr(), camPassword)
	main, sub := chans["main"], chans["sub"]
	if d.Channels != 2 || main.ProfileToken != "Profile_1" || main.Codec != "H265" || main.Width != 2560 || main.Height != 1440 ||
		main.FPS != 25 || !main.PTZ || sub.ProfileToken != "Profile_2" || sub.Codec != "H264" || sub.Width != 640 {
		t.Fatalf("device %+v, channels %+v", d, chans)
	}
	// The main channel's URL is Media2's stream URI of Profile_1: the H.265 stream.
	resp := ta.send("GET", main.Play.FLV+"?token="+ta.token, "", nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("play the H.265 channel: %d %s", resp.StatusCode, b)
	}
	readFLV(t, resp.Body, flvWant{video: "H265"}, 500)
	resp.Body.Close()

	t.Run("Media2 after a firmware upgrade", func(t *testing.T) {
		ta := ta.with(t)
		old := newCamera(t, src, media2)
		old.Misbehave("GetServices", notSupported) // the old firmware lists no service
		d, chans := ta.addCamera(old.Addr(), camPassword)
		h264 := chans["main"]
		if len(chans) != 1 || h264.ProfileToken != "Profile_2" || h264.Codec != "H264" {
			t.Fatalf("through Media: %+v", chans)
		}
		ta.api("PATCH", fmt.Sprintf("/api/v1/channels/%d", h264.ID), map[string]any{"name": "Gate low"}, http.StatusOK, nil)

		old.Behave("GetServices")
		var res struct{ Added, Updated, Removed, Total int }
		ta.api("POST", fmt.Sprintf("/api/v1/devices/%d/sync", d.ID), nil, http.StatusOK, &res)
		if res.Added != 1 || res.Updated != 1 || res.Removed != 0 || res.Total != 2 {
			t.Errorf("sync %+v, want the H.265 profile added and the H.264 one updated", res)
		}
		chans = ta.onvifChannels(d.ID)
		if len(chans) != 2 || chans["sub"].ID != h264.ID || chans["sub"].Name != "Gate low" || chans["sub"].ProfileToken != "Profile_2" {
			t.Errorf("the H.264 channel after the sync: %+v", chans)
		}
		if m := chans["main"]; m.ProfileToken != "Profile_1" || m.Codec != "H265" || m.Width != 2560 {
			t.Errorf("the H.265 channel: %+v", m)
		}
	})
}

// TestONVIFAddConcurrent sends the same camera to POST /api/v1/devices three times at once,
// under three spellings of its address: one device is made, the others are answered 409.
func TestONVIFAddConcurrent(t *testing.T) {
	t.Parallel()
	src := camSource(t, 2)
	cam := newCamera(t, src, nil)
	// A slow camera: every request arrives while the first onboarding still probes.
	cam.Misbehave("GetDeviceInformation", onvifsim.Misbehaviour{Delay: 300 * time.Millisecond})
	ta := startApp(t, onvifConfig)

	addrs := []string{cam.Addr(), cam.XAddr(), "HTTP://" + cam.Addr() + "/"}
	created := addConcurrently(t, []*testApp{ta, ta, ta}, addrs)

	var devs list[deviceJSON]
	ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &devs)
	var chans list[channelJSON]
	ta.api("GET", "/api/v1/channels", nil, http.StatusOK, &chans)
	if devs.Total != 1 || chans.Total != 2 {
		t.Errorf("%d devices and %d channels, want 1 and 2", devs.Total, chans.Total)
	}
	probes := 0
	for _, r := range cam.Requests() {
		if r.Op == "GetDeviceInformation" {
			probes++
		}
	}
	if probes != 1 {
		t.Errorf("the camera was probed %d times, want once", probes)
	}

	// Once deleted, the camera can be added again.
	ta.api("DELETE", fmt.Sprintf("/api/v1/devices/%d", created.ID), nil, http.StatusNoContent, nil)
	cam.Behave("GetDeviceInformation")
	if d, _ := ta.addCamera(cam.Addr(), camPassword); d.ID == created.ID {
		t.Errorf("the deleted device came back: %+v", d)
	}
}

// addConcurrently posts the camera at addrs[i] to apps[i], all at once, and checks that exactly
// one onboarding made a device and the others were answered 409 naming it.
func addConcurrently(t *testing.T, apps []*testApp, addrs []string) onvifDeviceJSON {
	t.Helper()
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make([]answer, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		ta := apps[i]
		wg.Go(func() {
			body, _ := json.Marshal(map[string]any{"type": "onvif", "address": a, "username": camUser, "password": camPassword})
			req, err := http.NewRequestWithContext(t.Context(), "POST", ta.base+"/api/v1/devices", bytes.NewReader(body))
			if err != nil {
				answers[i].err = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ta.token)
			resp, err := ta.http.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			answers[i] = answer{resp.StatusCode, b, err}
		})
	}
	wg.Wait()

	var created onvifDeviceJSON
	n := 0
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("POST %s: %v", addrs[i], a.err)
		}
		if a.status == http.StatusCreated {
			n++
			if err := json.Unmarshal(a.body, &created); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d of the concurrent onboardings made a device: %+v", n, answers)
	}
	for i, a := range answers {
		if a.status == http.StatusCreated {
			continue
		}
		e := wantError(t, "POST "+addrs[i], a.status, a.body, http.StatusConflict, "conflict")
		if want := fmt.Sprintf("already added as device %d", created.ID); !strings.Contains(e.Error.Message, want) {
			t.Errorf("message %q does not say %q", e.Error.Message, want)
		}
	}
	return created
}

// TestONVIFAddTwoProcesses runs two nvr apps on one database, as a site with several nvr
// processes does, and adds one camera through both at once: the database's unique address lets
// one device in, and the other app answers 409 naming it.
func TestONVIFAddTwoProcesses(t *testing.T) {
	t.Parallel()
	src := camSource(t, 2)
	cam := newCamera(t, src, nil)
	// Both probes overlap, so that both apps find no device before they insert theirs.
	cam.Misbehave("GetDeviceInformation", onvifsim.Misbehaviour{Delay: 300 * time.Millisecond})
	dir := t.TempDir()
	if err := copyTemplate(dir); err != nil {
		t.Fatal(err)
	}
	shared := func(c *config.Config) { c.DataDir = dir }
	a, b := startApp(t, onvifConfig, shared), startApp(t, onvifConfig, shared)

	created := addConcurrently(t, []*testApp{a, b}, []string{cam.Addr(), cam.URL()})
	for _, ta := range []*testApp{a, b} {
		var devs list[deviceJSON]
		ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &devs)
		if devs.Total != 1 || devs.Items[0].ID != created.ID {
			t.Errorf("devices %+v, want device %d alone", devs, created.ID)
		}
	}
}
