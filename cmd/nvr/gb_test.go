package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/manscdp"
)

// TestGBRegister: a wrong password is refused and leaves no online device; the
// right one brings the device online with what its DeviceInfo says, and its
// catalog, over UDP and TCP.
func TestGBRegister(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	for i, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			bad := e.sim(t, 10+i, func(c *gbsim.Config) { c.Transport = tr; c.Password = "wrong" })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := bad.Register(ctx)
			var se *gbsim.StatusError
			if !errors.As(err, &se) || se.Code != http.StatusForbidden {
				t.Fatalf("register with a wrong password: %v, want 403", err)
			}
			if d, ok := e.gbDevice(t, bad.ID()); ok && d.Online {
				t.Fatalf("device online after a refused registration: %+v", d)
			}
			_ = bad.Close()

			good := e.sim(t, 10+i, func(c *gbsim.Config) { c.Transport = tr })
			register(t, good)
			keepalives(t, good)
			d := e.waitDevice(t, good.ID(), "online with its DeviceInfo", func(d gbDeviceJSON) bool {
				return d.Online && d.Manufacturer != "" && d.Charset != ""
			})
			want := gbDeviceJSON{ID: d.ID, Type: "gb28181", Name: "模拟设备 " + good.ID()[14:], Status: "idle", Channels: d.Channels,
				GBID: good.ID(), Online: true, Manufacturer: "gbsim", Model: "GBSIM-IPC", Firmware: "V1.0.0",
				Transport: tr, RemoteAddr: good.LocalAddr(), Charset: "GB2312", StreamTransport: "udp"}
			got := d
			got.LastKeepalive, got.RegisteredAt, got.ExpiresAt = nil, nil, nil
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("device\n got %+v\nwant %+v", got, want)
			}
			if d.RegisteredAt == nil || d.ExpiresAt == nil || !d.ExpiresAt.After(*d.RegisteredAt) {
				t.Errorf("registered_at %v, expires_at %v", d.RegisteredAt, d.ExpiresAt)
			}
			chans := e.waitChannels(t, d.ID, "the IPC's channel", func(m map[string]gbChannelJSON) bool { return len(m) == 1 })
			ch, ok := chans[good.ChannelID(1)]
			if !ok || ch.Name != gbsim.ChannelName(1) || ch.Status != "ON" || ch.StreamStatus != "idle" ||
				ch.Kind != "channel" || ch.PTZType != 1 || ch.ParentID != good.ID() || ch.Manufacturer != "gbsim" {
				t.Errorf("channel %+v", chans)
			}
		})
	}
	t.Run("no password in the API", func(t *testing.T) {
		for _, b := range e.apiBodies() {
			if strings.Contains(b, `"password"`) || strings.Contains(b, gbPassword) {
				t.Fatalf("an API answer shows a password: %s", b)
			}
		}
	})
}

// TestGBProvisioned: with auto-accept off only devices added beforehand may
// register, with their own password; their settings are changed by PATCH.
func TestGBProvisioned(t *testing.T) {
	t.Parallel()
	e := startGB(t, func(c *config.Config) { c.SIP.AutoAccept = false })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	unknown := e.sim(t, 20, nil)
	var se *gbsim.StatusError
	if _, err := unknown.Register(ctx); !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Fatalf("unknown device with auto_accept off: %v, want 403", err)
	}

	id := gbsim.MakeID(132, 21)
	var d gbDeviceJSON
	e.api("POST", "/api/v1/devices", map[string]any{"type": "gb28181", "gb_id": id, "name": "大门", "password": "own-pw", "charset": "UTF-8"},
		http.StatusCreated, &d)
	if d.GBID != id || d.Name != "大门" || !d.HasPassword || d.Online || d.Charset != "UTF-8" || d.LastKeepalive != nil {
		t.Fatalf("provisioned device %+v", d)
	}
	st, body := e.do("POST", "/api/v1/devices", e.token, map[string]any{"type": "gb28181", "gb_id": id})
	wantError(t, "second POST of a GB ID", st, body, http.StatusConflict, "conflict")
	st, body = e.do("POST", "/api/v1/devices", e.token, map[string]any{"type": "gb28181"})
	if e := wantError(t, "POST without gb_id", st, body, http.StatusBadRequest, "bad_request"); !strings.Contains(e.Error.Message, "register") {
		t.Errorf("message %q does not say devices register themselves", e.Error.Message)
	}
	st, body = e.do("POST", "/api/v1/devices", e.token, map[string]any{"type": "gb28181", "gb_id": "123"})
	wantError(t, "POST with a short gb_id", st, body, http.StatusBadRequest, "bad_request")

	global := e.sim(t, 21, nil) // the global password, not the device's own
	if _, err := global.Register(ctx); !errors.As(err, &se) || se.Code != http.StatusForbidden {
		t.Fatalf("provisioned device with the global password: %v, want 403", err)
	}
	_ = global.Close()
	own := e.sim(t, 21, func(c *gbsim.Config) { c.Password = "own-pw" })
	register(t, own)
	keepalives(t, own)
	d = e.waitDevice(t, id, "online with DeviceInfo", func(d gbDeviceJSON) bool { return d.Online && d.Model != "" })
	if d.Name != "大门" {
		t.Errorf("DeviceInfo replaced the name given: %q", d.Name)
	}

	path := fmt.Sprintf("/api/v1/devices/%d", d.ID)
	for _, bad := range []map[string]any{
		{"charset": "latin1"}, {"stream_transport": "quic"}, {"name": " "}, {"url": "rtsp://x/y"}, {"always_on": true},
	} {
		st, body := e.do("PATCH", path, e.token, bad)
		wantError(t, fmt.Sprintf("PATCH %v", bad), st, body, http.StatusBadRequest, "bad_request")
	}
	e.api("PATCH", path, map[string]any{"password": "", "charset": "GB18030", "stream_transport": "tcp-active", "name": "后门"}, http.StatusOK, &d)
	if d.HasPassword || d.Charset != "GB18030" || d.StreamTransport != "tcp-active" || d.Name != "后门" || !d.Online {
		t.Errorf("after PATCH: %+v", d)
	}
	// Without its own password the device now needs the global one.
	_ = own.Close()
	if _, err := e.sim(t, 21, nil).Register(ctx); err != nil {
		t.Errorf("register with the global password after the own one was cleared: %v", err)
	}

	rtspDev, _ := e.addDevice("cam", "rtsp://127.0.0.1:1/x")
	st, body = e.do("PATCH", fmt.Sprintf("/api/v1/devices/%d", rtspDev.ID), e.token, map[string]any{"charset": "UTF-8"})
	wantError(t, "PATCH charset of an RTSP device", st, body, http.StatusBadRequest, "bad_request")
}

// TestGBKeepalive: a device whose keepalives stop goes offline after
// keepalive_misses × keepalive_interval, with its channels; keepalives bring
// both back.
func TestGBKeepalive(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	sim := e.sim(t, 30, nil)
	register(t, sim)
	stop := keepalives(t, sim)
	d := e.waitDevice(t, sim.ID(), "online", func(d gbDeviceJSON) bool { return d.Online && d.LastKeepalive != nil })
	e.waitChannels(t, d.ID, "channel ON", func(m map[string]gbChannelJSON) bool { return m[sim.ChannelID(1)].Status == "ON" })

	stop()
	stopped := time.Now()
	e.waitDevice(t, sim.ID(), "offline", func(d gbDeviceJSON) bool { return !d.Online })
	took := time.Since(stopped)
	// The last keepalive was at most half an interval before stopped.
	if min := gbMisses*gbKeepalive - gbKeepalive/2; took < min {
		t.Errorf("offline %v after the keepalives stopped, before %v", took, min)
	}
	t.Logf("offline %v after the keepalives stopped (limit %v)", took, gbMisses*gbKeepalive)
	e.waitChannels(t, d.ID, "channel OFF", func(m map[string]gbChannelJSON) bool { return m[sim.ChannelID(1)].Status == "OFF" })
	wantLog(t, e.testApp, `msg="device offline"`, "device_id="+sim.ID())

	keepalives(t, sim)
	e.waitDevice(t, sim.ID(), "online again", func(d gbDeviceJSON) bool { return d.Online })
	e.waitChannels(t, d.ID, "channel ON again", func(m map[string]gbChannelJSON) bool { return m[sim.ChannelID(1)].Status == "ON" })
	wantLog(t, e.testApp, `msg="device online"`, "device_id="+sim.ID(), "via=keepalive")
}

// wantLog checks that one line of the app's log has every part.
func wantLog(t *testing.T, ta *testApp, parts ...string) {
	t.Helper()
	for line := range strings.SplitSeq(ta.logs.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return
		}
	}
	t.Errorf("no log line with %q", parts)
}

// TestGBCatalog: a 500-channel catalog in 50 MESSAGEs, one of them sent twice
// and two in swapped order, is stored whole with its GB2312 names; a UTF-8
// device's names read right too.
func TestGBCatalog(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	nvr := e.sim(t, 40, func(c *gbsim.Config) {
		c.Channels, c.PerMessage = 500, 10
		c.Quirks = gbsim.Quirks{DuplicatePart: 7, SwapParts: [][2]int{{3, 4}}}
	})
	register(t, nvr)
	keepalives(t, nvr)
	d := e.waitDevice(t, nvr.ID(), "online NVR", func(d gbDeviceJSON) bool { return d.Online && d.Model == "GBSIM-NVR" })
	chans := e.waitChannels(t, d.ID, "500 channels", func(m map[string]gbChannelJSON) bool { return len(m) == 500 })
	for i := 1; i <= 500; i++ {
		ch, ok := chans[nvr.ChannelID(i)]
		if !ok || ch.Name != gbsim.ChannelName(i) || ch.Status != "ON" || ch.Kind != "channel" || ch.ParentID != nvr.ID() {
			t.Fatalf("channel %d: %+v (listed %v)", i, ch, ok)
		}
	}
	wantLog(t, e.testApp, `msg="catalog stored"`, "device_id="+nvr.ID(), "items=500")

	var res struct {
		Added, Updated, Removed, Total int
		Complete                       bool
	}
	e.api("POST", fmt.Sprintf("/api/v1/devices/%d/sync", d.ID), nil, http.StatusOK, &res)
	if res.Added != 0 || res.Updated != 0 || res.Removed != 0 || res.Total != 500 || !res.Complete {
		t.Errorf("refresh of an unchanged catalog: %+v", res)
	}

	utf8 := e.sim(t, 41, func(c *gbsim.Config) {
		c.Channels = 3
		c.Quirks = gbsim.Quirks{UTF8: true, WrongProlog: true}
	})
	register(t, utf8)
	keepalives(t, utf8)
	d = e.waitDevice(t, utf8.ID(), "online UTF-8 device", func(d gbDeviceJSON) bool { return d.Online && d.Charset != "" })
	if d.Charset != "UTF-8" || d.Name != "模拟设备 "+utf8.ID()[14:] {
		t.Errorf("UTF-8 device: charset %q, name %q", d.Charset, d.Name)
	}
	chans = e.waitChannels(t, d.ID, "3 channels", func(m map[string]gbChannelJSON) bool { return len(m) == 3 })
	for i := 1; i <= 3; i++ {
		if got := chans[utf8.ChannelID(i)].Name; got != gbsim.ChannelName(i) {
			t.Errorf("UTF-8 channel %d name %q, want %q", i, got, gbsim.ChannelName(i))
		}
	}
}

// TestGBControl: PTZ through the API reaches the device as the exact
// PTZCmd; presets, recordings, status, configuration and reboot work; bad
// requests are 400, a silent device 504 within the query timeout, an
// offline one 409.
func TestGBControl(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	sim := e.sim(t, 50, func(c *gbsim.Config) { c.Channels = 2 })
	register(t, sim)
	keepalives(t, sim)
	d := e.waitDevice(t, sim.ID(), "online", func(d gbDeviceJSON) bool { return d.Online && d.Model != "" })
	chans := e.waitChannels(t, d.ID, "2 channels", func(m map[string]gbChannelJSON) bool { return len(m) == 2 })
	ch := chans[sim.ChannelID(1)]
	ptzPath := fmt.Sprintf("/api/v1/channels/%d/ptz", ch.ID)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	for i, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"action": "left", "speed": 100}, ptzFrame(0x02, 100, 0, 0)},
		{map[string]any{"action": "up_left", "speed": 50}, ptzFrame(0x0A, 50, 50, 0)},
		{map[string]any{"action": "down_right"}, ptzFrame(0x05, 128, 128, 0)},
		{map[string]any{"action": "zoom_in", "speed": 255}, ptzFrame(0x10, 0, 0, 15)},
		{map[string]any{"action": "zoom_out", "speed": 40}, ptzFrame(0x20, 0, 0, 2)},
		{map[string]any{"action": "focus_far", "speed": 80}, ptzFrame(0x41, 80, 0, 0)},
		{map[string]any{"action": "iris_close", "speed": 90}, ptzFrame(0x48, 0, 90, 0)},
		{map[string]any{"action": "stop"}, ptzFrame(0x00, 0, 0, 0)},
		{map[string]any{"action": "preset_set", "preset": 9}, ptzFrame(0x81, 0, 9, 0)},
		{map[string]any{"action": "preset_call", "preset": 3}, ptzFrame(0x82, 0, 3, 0)},
		{map[string]any{"action": "preset_delete", "preset": 255}, ptzFrame(0x83, 0, 255, 0)},
	} {
		e.api("POST", ptzPath, c.body, http.StatusNoContent, nil)
		ctrls, err := sim.WaitControls(ctx, i+1)
		if err != nil {
			t.Fatalf("%v: %v", c.body, err)
		}
		got := ctrls[i]
		if !strings.EqualFold(got.PTZCmd, c.want) || got.DeviceID != ch.GBID {
			t.Errorf("%v: device got PTZCmd %s for %s, want %s for %s", c.body, got.PTZCmd, got.DeviceID, c.want, ch.GBID)
		}
	}
	for _, bad := range []any{
		map[string]any{"action": "spin"}, map[string]any{"action": "left", "speed": 256},
		map[string]any{"action": "left", "speed": -1}, map[string]any{"action": "preset_call"},
		map[string]any{"action": "preset_set", "preset": 0}, map[string]any{"action": "preset_call", "preset": 256},
	} {
		st, body := e.do("POST", ptzPath, e.token, bad)
		wantError(t, fmt.Sprintf("PTZ %v", bad), st, body, http.StatusBadRequest, "bad_request")
	}
	st, body := e.do("POST", ptzPath, e.token, "{")
	wantError(t, "PTZ with broken JSON", st, body, http.StatusBadRequest, "invalid_json")
	st, body = e.do("POST", "/api/v1/channels/99999/ptz", e.token, map[string]any{"action": "left"})
	wantError(t, "PTZ of an unknown channel", st, body, http.StatusNotFound, "not_found")
	_, rtspCh := e.addDevice("cam", "rtsp://127.0.0.1:1/x")
	st, body = e.do("POST", fmt.Sprintf("/api/v1/channels/%d/ptz", rtspCh.ID), e.token, map[string]any{"action": "left"})
	wantError(t, "PTZ of an RTSP channel", st, body, http.StatusBadRequest, "bad_request")
	if n := len(sim.Controls()); n != 11 {
		t.Errorf("the device received %d controls, want 11", n)
	}

	var presets list[struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}]
	e.api("GET", fmt.Sprintf("/api/v1/channels/%d/presets", ch.ID), nil, http.StatusOK, &presets)
	// The three default presets, preset 9 set and 255 deleted (it did not exist).
	if presets.Total != 4 || presets.Items[0].ID != 1 || presets.Items[0].Name != "预置位1 大门" || presets.Items[3].ID != 9 {
		t.Errorf("presets %+v", presets)
	}

	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	end := start.Add(2 * time.Hour)
	q := url.Values{"start": {start.Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}}
	recPath := fmt.Sprintf("/api/v1/devices/%d/records?", d.ID)
	st, body = e.do("GET", recPath+q.Encode(), e.token, nil)
	wantError(t, "records of a 2-channel device without channel", st, body, http.StatusBadRequest, "bad_request")
	for _, channel := range []string{ch.GBID, fmt.Sprint(ch.ID)} {
		q.Set("channel", channel)
		var recs struct {
			Items []struct {
				ChannelGBID string    `json:"channel_gb_id"`
				Start       time.Time `json:"start"`
				End         time.Time `json:"end"`
				Type        string    `json:"type"`
				FileSize    int64     `json:"file_size"`
			} `json:"items"`
			Total    int  `json:"total"`
			Complete bool `json:"complete"`
		}
		e.api("GET", recPath+q.Encode(), nil, http.StatusOK, &recs)
		if recs.Total != 4 || !recs.Complete || !recs.Items[0].Start.Equal(start) || !recs.Items[3].End.Equal(end) ||
			recs.Items[0].ChannelGBID != ch.GBID || recs.Items[0].Type != "time" || recs.Items[0].FileSize == 0 {
			t.Errorf("records of channel %s: %+v", channel, recs)
		}
	}
	for _, bad := range []string{"start=yesterday&end=" + url.QueryEscape(end.Format(time.RFC3339)), "end=" + url.QueryEscape(end.Format(time.RFC3339))} {
		st, body = e.do("GET", recPath+bad+"&channel="+ch.GBID, e.token, nil)
		wantError(t, "records "+bad, st, body, http.StatusBadRequest, "bad_request")
	}

	var status struct {
		Online, Status, Record string
		DeviceTime             *time.Time `json:"device_time"`
		Alarms                 []struct {
			ID         string `json:"id"`
			DutyStatus string `json:"duty_status"`
		}
	}
	e.api("GET", fmt.Sprintf("/api/v1/devices/%d/status", d.ID), nil, http.StatusOK, &status)
	if status.Online != "ONLINE" || status.Status != "OK" || status.DeviceTime == nil || len(status.Alarms) != 1 {
		t.Errorf("status %+v", status)
	}
	var cfg struct {
		DeviceID       string `json:"device_id"`
		HeartbeatCount int    `json:"heartbeat_count"`
	}
	e.api("GET", fmt.Sprintf("/api/v1/devices/%d/config", d.ID), nil, http.StatusOK, &cfg)
	if cfg.DeviceID != sim.ID() || cfg.HeartbeatCount != 3 {
		t.Errorf("config %+v", cfg)
	}
	e.api("POST", fmt.Sprintf("/api/v1/devices/%d/reboot", d.ID), nil, http.StatusAccepted, nil)
	if ctrls, err := sim.WaitControls(ctx, 12); err != nil || ctrls[11].TeleBoot != "Boot" {
		t.Errorf("reboot: %v %+v", err, ctrls)
	}
	st, body = e.do("POST", fmt.Sprintf("/api/v1/devices/%d/sync", rtspCh.DeviceID), e.token, nil)
	wantError(t, "sync of an RTSP device", st, body, http.StatusBadRequest, "bad_request")

	t.Run("504", func(t *testing.T) {
		presetsPath := fmt.Sprintf("/api/v1/channels/%d/presets", ch.ID)
		sim.SetQuirks(gbsim.Quirks{NoAnswer: true}) // 200, then no answer
		began := time.Now()
		st, body := e.do("GET", presetsPath, e.token, nil)
		took := time.Since(began)
		wantError(t, "presets of a device that does not answer", st, body, http.StatusGatewayTimeout, "device_timeout")
		sim.SetQuirks(gbsim.Quirks{})
		sim.SetSilent(true) // not even a 200
		st, body = e.do("POST", ptzPath, e.token, map[string]any{"action": "stop"})
		took = max(took, time.Since(began)-took)
		wantError(t, "PTZ of a silent device", st, body, http.StatusGatewayTimeout, "device_timeout")
		sim.SetSilent(false)
		if took < gbQueryTimeout || took > gbQueryTimeout+2*time.Second {
			t.Errorf("a 504 took %v, sip.query_timeout is %v", took, gbQueryTimeout)
		}
		e.api("GET", presetsPath, nil, http.StatusOK, nil)
	})

	t.Run("409", func(t *testing.T) {
		if _, err := sim.Unregister(ctx); err != nil {
			t.Fatal(err)
		}
		e.waitDevice(t, sim.ID(), "offline", func(d gbDeviceJSON) bool { return !d.Online })
		st, body := e.do("POST", ptzPath, e.token, map[string]any{"action": "left"})
		wantError(t, "PTZ of an unregistered device", st, body, http.StatusConflict, "device_offline")
		st, body = e.do("POST", fmt.Sprintf("/api/v1/devices/%d/sync", d.ID), e.token, nil)
		wantError(t, "sync of an unregistered device", st, body, http.StatusConflict, "device_offline")
	})
}

// TestGBNotifications: an alarm is stored and listed, a catalog NOTIFY's DEL,
// OFF, ON and ADD are applied, a position is stored.
func TestGBNotifications(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	sim := e.sim(t, 60, func(c *gbsim.Config) { c.Channels = 3 })
	register(t, sim)
	keepalives(t, sim)
	d := e.waitDevice(t, sim.ID(), "online", func(d gbDeviceJSON) bool { return d.Online })
	e.waitChannels(t, d.ID, "3 channels", func(m map[string]gbChannelJSON) bool { return len(m) == 3 })
	eventually(t, "the catalog subscription", func() bool { return sim.Subscribed("Catalog") }, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	alarmAt := time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := sim.SendAlarm(ctx, sim.ChannelID(2), manscdp.Alarm{AlarmPriority: 1, AlarmMethod: 5, AlarmType: 2,
		AlarmDescription: "移动侦测", AlarmTime: alarmAt}); err != nil {
		t.Fatal(err)
	}
	type eventJSON struct {
		ID          int64     `json:"id"`
		DeviceID    int64     `json:"device_id"`
		ChannelGBID string    `json:"channel_gb_id"`
		Kind        string    `json:"kind"`
		Priority    int       `json:"priority"`
		Method      int       `json:"method"`
		AlarmType   string    `json:"alarm_type"`
		Description string    `json:"description"`
		Time        time.Time `json:"time"`
	}
	var evs list[eventJSON]
	eventually(t, "the alarm in /events", func() bool {
		e.api("GET", fmt.Sprintf("/api/v1/events?device_id=%d", d.ID), nil, http.StatusOK, &evs)
		return evs.Total == 1
	}, nil)
	ev := evs.Items[0]
	if ev.DeviceID != d.ID || ev.ChannelGBID != sim.ChannelID(2) || ev.Kind != "alarm" || ev.Priority != 1 || ev.Method != 5 ||
		ev.AlarmType != "2" || ev.Description != "移动侦测" || !ev.Time.Equal(alarmAt) {
		t.Errorf("event %+v", ev)
	}
	e.api("GET", "/api/v1/events?since="+url.QueryEscape(alarmAt.Add(time.Second).Format(time.RFC3339)), nil, http.StatusOK, &evs)
	if evs.Total != 0 {
		t.Errorf("events since after the alarm: %+v", evs)
	}
	for _, bad := range []string{"limit=0", "limit=1001", "since=now", "device_id=x", "offset=-1"} {
		st, body := e.do("GET", "/api/v1/events?"+bad, e.token, nil)
		wantError(t, "events?"+bad, st, body, http.StatusBadRequest, "bad_request")
	}

	err := sim.NotifyCatalog(ctx,
		gbsim.CatalogEvent{Event: manscdp.EventDel, ChannelID: sim.ChannelID(3)},
		gbsim.CatalogEvent{Event: manscdp.EventOff, ChannelID: sim.ChannelID(1)},
		gbsim.CatalogEvent{Event: manscdp.EventAdd, ChannelID: sim.ChannelID(4), Name: "新通道 东门"},
	)
	if err != nil {
		t.Fatal(err)
	}
	chans := e.waitChannels(t, d.ID, "DEL, OFF and ADD applied", func(m map[string]gbChannelJSON) bool {
		_, del := m[sim.ChannelID(3)]
		return !del && m[sim.ChannelID(1)].Status == "OFF" && m[sim.ChannelID(4)].Name == "新通道 东门"
	})
	if c := chans[sim.ChannelID(1)]; c.Name != gbsim.ChannelName(1) || c.Manufacturer != "gbsim" || chans[sim.ChannelID(2)].Status != "ON" {
		t.Errorf("after the notification: %+v", chans)
	}
	if err := sim.NotifyCatalog(ctx, gbsim.CatalogEvent{Event: manscdp.EventOn, ChannelID: sim.ChannelID(1)}); err != nil {
		t.Fatal(err)
	}
	e.waitChannels(t, d.ID, "ON applied", func(m map[string]gbChannelJSON) bool { return m[sim.ChannelID(1)].Status == "ON" })

	if err := sim.SendMobilePosition(ctx, manscdp.MobilePosition{Longitude: 118.5, Latitude: 31.25}); err != nil {
		t.Fatal(err)
	}
	e.waitDevice(t, sim.ID(), "the position", func(d gbDeviceJSON) bool {
		return d.Longitude != nil && *d.Longitude == 118.5 && *d.Latitude == 31.25
	})
	if err := sim.SendMediaStatus(ctx, 121); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the media status log line", func() bool {
		return strings.Contains(e.logs.String(), `msg="media status" component=gb device_id=`+sim.ID())
	}, nil)
}

// TestGBMalformedBodies: broken bodies from one device are answered or
// dropped; that device and another keep being served. A body over 1 MiB is
// refused with 413, and its TCP connection closed (the stream cannot be
// trusted any more), which does not touch the other devices.
func TestGBMalformedBodies(t *testing.T) {
	t.Parallel()
	e := startGB(t)
	a := e.sim(t, 70, func(c *gbsim.Config) { c.Transport = "tcp" })
	b := e.sim(t, 71, nil)
	big := e.sim(t, 72, func(c *gbsim.Config) { c.Transport = "tcp" })
	register(t, big)
	for _, s := range []*gbsim.Device{a, b} {
		register(t, s)
		keepalives(t, s)
	}
	da := e.waitDevice(t, a.ID(), "a online", func(d gbDeviceJSON) bool { return d.Online && d.Model != "" })
	db := e.waitDevice(t, b.ID(), "b online", func(d gbDeviceJSON) bool { return d.Online && d.Model != "" })
	chB := e.waitChannels(t, db.ID, "b's channel", func(m map[string]gbChannelJSON) bool { return len(m) == 1 })[b.ChannelID(1)]

	head := `<?xml version="1.0" encoding="GB2312"?>` + "\r\n"
	bodies := map[string][]byte{
		"truncated":     []byte(head + `<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>` + a.ID()),
		"wrong CmdType": []byte(head + `<Notify><CmdType>Bogus</CmdType><SN>2</SN><DeviceID>` + a.ID() + `</DeviceID></Notify>`),
		"no XML":        []byte("hello"),
		"empty":         nil,
		"answer nobody waits for": []byte(head + `<Response><CmdType>Catalog</CmdType><SN>999999999</SN><DeviceID>` + a.ID() +
			`</DeviceID><SumNum>1</SumNum><DeviceList Num="1"><Item><DeviceID>1</DeviceID></Item></DeviceList></Response>`),
		"bad charset bytes": append(append([]byte(head+`<Notify><CmdType>Alarm</CmdType><SN>3</SN><DeviceID>`+a.ID()+
			`</DeviceID><AlarmPriority>2</AlarmPriority><AlarmMethod>2</AlarmMethod><AlarmDescription>`),
			0xff, 0xfe, 0x80, 0xa1, '!'), []byte(`</AlarmDescription></Notify>`)...),
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	huge := append([]byte(head+`<Notify><CmdType>Keepalive</CmdType><SN>4</SN><DeviceID>`+big.ID()+`</DeviceID><Info>`),
		bytes.Repeat([]byte("x"), 1<<20)...)
	if code, err := big.Send(ctx, "MESSAGE", "Application/MANSCDP+xml", huge); err != nil || code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB body: %d %v, want 413", code, err)
	}
	for name, body := range bodies {
		code, err := a.Send(ctx, "MESSAGE", "Application/MANSCDP+xml", body)
		t.Logf("%s (%d bytes): %d %v", name, len(body), code, err)
		if err != nil || code != http.StatusOK && code != http.StatusBadRequest {
			t.Errorf("%s: %d %v", name, code, err)
		}
	}
	// The alarm with bad bytes is kept, the bad bytes replaced.
	eventually(t, "the alarm with bad bytes", func() bool {
		var evs list[struct {
			Description string `json:"description"`
		}]
		e.api("GET", fmt.Sprintf("/api/v1/events?device_id=%d", da.ID), nil, http.StatusOK, &evs)
		return evs.Total == 1 && strings.HasSuffix(evs.Items[0].Description, "!")
	}, nil)

	// Both devices are still served.
	e.api("GET", fmt.Sprintf("/api/v1/channels/%d/presets", chB.ID), nil, http.StatusOK, nil)
	var res struct{ Total int }
	e.api("POST", fmt.Sprintf("/api/v1/devices/%d/sync", da.ID), nil, http.StatusOK, &res)
	if res.Total != 1 {
		t.Errorf("catalog of a after the bad bodies: %+v", res)
	}
	for _, id := range []string{a.ID(), b.ID()} {
		if d, _ := e.gbDevice(t, id); !d.Online {
			t.Errorf("%s offline after the bad bodies", id)
		}
	}
}

// TestGBRestart: after a restart on the same data dir and SIP port the
// devices and their channels are there, offline; the SIP server restored
// their registrations, so a keepalive brings a device back online and it is
// reachable at once, without a new REGISTER. A device registered over TCP
// lost its connection with the restart and is reachable again once it
// connects anew.
func TestGBRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := copyTemplate(dir); err != nil {
		t.Fatal(err)
	}
	sipAddr := freeSIPAddr(t)
	sameRun := func(c *config.Config) { c.DataDir = dir; c.SIP.Addr = sipAddr }
	// The simulators never register on their own (no Start): a REGISTER
	// in the second run could only come from the test.
	// They outlive the first run: closed when the whole test ends.
	parent := t
	newSim := func(t *testing.T, serial int, transport string) *gbsim.Device {
		d, err := gbsim.New(gbsim.Config{DeviceID: gbsim.MakeID(132, serial), Password: gbPassword, Server: sipAddr,
			Transport: transport, Timeout: 3 * time.Second, Channels: 2})
		if err != nil {
			t.Fatal(err)
		}
		parent.Cleanup(func() { _ = d.Close() })
		return d
	}
	var udpSim, tcpSim *gbsim.Device
	devIDs := map[string]int64{}

	t.Run("first run", func(t *testing.T) {
		e := startGB(t, sameRun)
		udpSim, tcpSim = newSim(t, 80, "udp"), newSim(t, 81, "tcp")
		for _, sim := range []*gbsim.Device{udpSim, tcpSim} {
			register(t, sim)
			keepalives(t, sim) // stopped when this subtest ends, before the app
			d := e.waitDevice(t, sim.ID(), "online", func(d gbDeviceJSON) bool { return d.Online && d.Model != "" })
			devIDs[sim.ID()] = d.ID
			e.waitChannels(t, d.ID, "2 channels", func(m map[string]gbChannelJSON) bool { return len(m) == 2 })
		}
	})
	if len(devIDs) != 2 {
		t.FailNow()
	}

	e := startGB(t, sameRun)
	if e.sip != sipAddr {
		t.Fatalf("second run listens on %s, want %s", e.sip, sipAddr)
	}
	wantLog(t, e.testApp, `msg="registrations restored from before the restart"`, "restored=2", "stored=2")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	// ptzPath returns the PTZ path of a device's first channel after
	// checking that the device and its channels are back, offline.
	ptzPath := func(t *testing.T, sim *gbsim.Device) string {
		t.Helper()
		d, ok := e.gbDevice(t, sim.ID())
		if !ok || d.ID != devIDs[sim.ID()] || d.Online || d.Model != "GBSIM-NVR" || d.Name == sim.ID() {
			t.Fatalf("after the restart: listed %v, %+v", ok, d)
		}
		chans := e.channels(t, d.ID)
		if len(chans) != 2 || chans[sim.ChannelID(1)].Status != "OFF" || chans[sim.ChannelID(1)].Name != gbsim.ChannelName(1) {
			t.Fatalf("channels after the restart: %+v", chans)
		}
		path := fmt.Sprintf("/api/v1/channels/%d/ptz", chans[sim.ChannelID(1)].ID)
		// Not heard from yet: offline, and said so at once.
		began := time.Now()
		st, body := e.do("POST", path, e.token, map[string]any{"action": "left"})
		wantError(t, "PTZ before the device was heard from", st, body, http.StatusConflict, "device_offline")
		if took := time.Since(began); took >= gbQueryTimeout {
			t.Errorf("the 409 took %v", took)
		}
		return path
	}

	t.Run("udp", func(t *testing.T) {
		path := ptzPath(t, udpSim)
		keepalives(t, udpSim)
		d := e.waitDevice(t, udpSim.ID(), "online from a keepalive", func(d gbDeviceJSON) bool { return d.Online })
		e.waitChannels(t, d.ID, "channels ON", func(m map[string]gbChannelJSON) bool { return m[udpSim.ChannelID(1)].Status == "ON" })
		wantLog(t, e.testApp, `msg="device online"`, "device_id="+udpSim.ID(), "via=keepalive")
		e.api("POST", path, map[string]any{"action": "left", "speed": 60}, http.StatusNoContent, nil)
		ctrls, err := udpSim.WaitControls(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := ctrls[len(ctrls)-1]; !strings.EqualFold(got.PTZCmd, ptzFrame(0x02, 60, 0, 0)) || got.DeviceID != udpSim.ChannelID(1) {
			t.Errorf("device got PTZCmd %s for %s", got.PTZCmd, got.DeviceID)
		}
		var res struct{ Total int }
		e.api("POST", fmt.Sprintf("/api/v1/devices/%d/sync", d.ID), nil, http.StatusOK, &res)
		if res.Total != 2 {
			t.Errorf("catalog after the restart: %+v", res)
		}
		if n := udpSim.Stats().Registrations; n != 1 {
			t.Errorf("the device registered %d times, want once (in the first run)", n)
		}
	})

	t.Run("tcp", func(t *testing.T) {
		path := ptzPath(t, tcpSim)
		// Its connection ended with the first run; it connects again (a
		// new socket, as a device does after its connection drops) and
		// sends keepalives there, without registering.
		again := newSim(t, 81, "tcp")
		keepalives(t, again)
		e.waitDevice(t, again.ID(), "online from a keepalive", func(d gbDeviceJSON) bool { return d.Online })
		e.api("POST", path, map[string]any{"action": "right", "speed": 70}, http.StatusNoContent, nil)
		ctrls, err := again.WaitControls(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := ctrls[0]; !strings.EqualFold(got.PTZCmd, ptzFrame(0x01, 70, 0, 0)) {
			t.Errorf("device got PTZCmd %s", got.PTZCmd)
		}
		if again.Stats().Registrations != 0 || tcpSim.Stats().Registrations != 1 {
			t.Errorf("registrations: %d on the new connection, %d on the old", again.Stats().Registrations, tcpSim.Stats().Registrations)
		}
	})
	if strings.Contains(e.logs.String(), "gb body from an unregistered device dropped") {
		t.Error("a restored device's message was dropped as from an unregistered device")
	}
}
