package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// TestGBDeviceControls: key frame, record and guard requests through the API
// reach the device as the DeviceControl the standard defines, addressed to
// the channel or the device; bad bodies and non-GB targets are 400, a device
// that refuses 502, a silent one 504, an offline one 409.
func TestGBDeviceControls(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	sim := e.sim(t, 90, func(c *gbsim.Config) { c.Channels = 2 })
	register(t, sim)
	keepalives(t, sim)
	d := e.waitDevice(t, sim.ID(), "online", func(d gbDeviceJSON) bool { return d.Online && d.Model != "" })
	chans := e.waitChannels(t, d.ID, "2 channels", func(m map[string]gbChannelJSON) bool { return len(m) == 2 })
	ch := chans[sim.ChannelID(2)]
	iframePath := fmt.Sprintf("/api/v1/channels/%d/iframe", ch.ID)
	recordPath := fmt.Sprintf("/api/v1/channels/%d/record", ch.ID)
	guardPath := fmt.Sprintf("/api/v1/devices/%d/guard", d.ID)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	for i, c := range []struct {
		path string
		body any
		want gbsim.Control // the fields compared: DeviceID and the commands
	}{
		{iframePath, nil, gbsim.Control{DeviceID: ch.GBID, IFameCmd: "Send"}},
		{recordPath, map[string]any{"action": "start"}, gbsim.Control{DeviceID: ch.GBID, RecordCmd: "Record"}},
		{recordPath, map[string]any{"action": "stop"}, gbsim.Control{DeviceID: ch.GBID, RecordCmd: "StopRecord"}},
		{guardPath, map[string]any{"action": "set"}, gbsim.Control{DeviceID: sim.ID(), GuardCmd: "SetGuard"}},
		{guardPath, map[string]any{"action": "reset"}, gbsim.Control{DeviceID: sim.ID(), GuardCmd: "ResetGuard"}},
	} {
		e.api("POST", c.path, c.body, http.StatusNoContent, nil)
		ctrls, err := sim.WaitControls(ctx, i+1)
		if err != nil {
			t.Fatalf("%s %v: %v", c.path, c.body, err)
		}
		got := ctrls[i]
		if got.SN == 0 || got.PTZCmd != "" || got.TeleBoot != "" || got.AlarmCmd != "" {
			t.Errorf("%s %v: device got %+v", c.path, c.body, got)
		}
		got = gbsim.Control{DeviceID: got.DeviceID, IFameCmd: got.IFameCmd, RecordCmd: got.RecordCmd, GuardCmd: got.GuardCmd}
		if got != c.want {
			t.Errorf("%s %v: device got %+v, want %+v", c.path, c.body, got, c.want)
		}
	}

	_, rtspCh := e.addDevice("cam", "rtsp://127.0.0.1:1/x")
	for _, c := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"record without action", recordPath, map[string]any{}, http.StatusBadRequest, "bad_request"},
		{"record pause", recordPath, map[string]any{"action": "pause"}, http.StatusBadRequest, "bad_request"},
		{"record broken JSON", recordPath, "{", http.StatusBadRequest, "invalid_json"},
		{"record no body", recordPath, nil, http.StatusBadRequest, "invalid_json"},
		{"guard arm", guardPath, map[string]any{"action": "arm"}, http.StatusBadRequest, "bad_request"},
		{"guard action a number", guardPath, map[string]any{"action": 1}, http.StatusBadRequest, "invalid_json"},
		{"record of an RTSP channel", fmt.Sprintf("/api/v1/channels/%d/record", rtspCh.ID), map[string]any{"action": "start"}, http.StatusBadRequest, "bad_request"},
		{"iframe of an RTSP channel", fmt.Sprintf("/api/v1/channels/%d/iframe", rtspCh.ID), nil, http.StatusBadRequest, "bad_request"},
		{"guard of an RTSP device", fmt.Sprintf("/api/v1/devices/%d/guard", rtspCh.DeviceID), map[string]any{"action": "set"}, http.StatusBadRequest, "bad_request"},
		{"iframe of an unknown channel", "/api/v1/channels/99999/iframe", nil, http.StatusNotFound, "not_found"},
		{"guard of an unknown device", "/api/v1/devices/99999/guard", map[string]any{"action": "set"}, http.StatusNotFound, "not_found"},
	} {
		st, body := e.do("POST", c.path, e.token, c.body)
		wantError(t, c.name, st, body, c.status, c.code)
	}
	if n := len(sim.Controls()); n != 5 {
		t.Errorf("the device received %d controls, want 5", n)
	}

	t.Run("502", func(t *testing.T) {
		sim.SetQuirks(gbsim.Quirks{MessageStatus: http.StatusForbidden})
		defer sim.SetQuirks(gbsim.Quirks{})
		st, body := e.do("POST", guardPath, e.token, map[string]any{"action": "set"})
		wantError(t, "guard refused by the device", st, body, http.StatusBadGateway, "device_error")
	})

	t.Run("504", func(t *testing.T) {
		sim.SetSilent(true)
		defer sim.SetSilent(false)
		began := time.Now()
		st, body := e.do("POST", iframePath, e.token, nil)
		wantError(t, "key frame of a silent device", st, body, http.StatusGatewayTimeout, "device_timeout")
		if took := time.Since(began); took < gbQueryTimeout || took > gbQueryTimeout+2*time.Second {
			t.Errorf("the 504 took %v, sip.query_timeout is %v", took, gbQueryTimeout)
		}
	})

	t.Run("409", func(t *testing.T) {
		if _, err := sim.Unregister(ctx); err != nil {
			t.Fatal(err)
		}
		e.waitDevice(t, sim.ID(), "offline", func(d gbDeviceJSON) bool { return !d.Online })
		before := len(sim.Controls())
		for _, c := range []struct {
			path string
			body any
		}{{iframePath, nil}, {recordPath, map[string]any{"action": "start"}}, {guardPath, map[string]any{"action": "reset"}}} {
			st, body := e.do("POST", c.path, e.token, c.body)
			wantError(t, c.path+" of an offline device", st, body, http.StatusConflict, "device_offline")
		}
		if n := len(sim.Controls()); n != before {
			t.Errorf("%d controls reached an offline device", n-before)
		}
	})
}
