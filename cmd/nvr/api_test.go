package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nvr/nvr/media/testsrc"
)

// TestAPIAuthAndErrors checks what a client gets without a valid token and
// for bad input: 401/400/404 answers, all with the JSON error body.
func TestAPIAuthAndErrors(t *testing.T) {
	t.Parallel()
	ta := startFreshApp(t)

	t.Run("health needs no token", func(t *testing.T) {
		ta := ta.with(t)
		st, body := ta.do("GET", "/api/v1/health", "", nil)
		var h struct {
			Status   string `json:"status"`
			Database string `json:"database"`
		}
		if st != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Status != "ok" || h.Database != "ok" {
			t.Fatalf("health: %d %s", st, body)
		}
	})

	t.Run("every other route needs a token", func(t *testing.T) {
		ta := ta.with(t)
		// Derived from the OpenAPI document, which TestOpenAPIMatchesRouter
		// holds equal to the router, so that a route added later is covered.
		public := map[string]bool{}
		for _, op := range docOperations(t, ta) {
			path := strings.NewReplacer("{id}", "1", "{stream}", "ch1", "{file}", "index.m3u8").Replace(op.path)
			if !op.secured {
				public[op.method+" "+op.path] = true
				continue
			}
			rt := op
			for _, c := range []struct {
				name, token, query string
			}{
				{"no token", "", ""},
				{"bad bearer", "not-a-token", ""},
				{"forged bearer", forge(ta.token), ""},
				{"bad query token", "", "?token=not-a-token"},
			} {
				what := fmt.Sprintf("%s %s (%s)", rt.method, path, c.name)
				resp := ta.send(rt.method, path+c.query, c.token, nil)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rt.method == "HEAD" {
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s: status %d, want 401", what, resp.StatusCode)
					}
					continue
				}
				wantError(t, what, resp.StatusCode, body, http.StatusUnauthorized, "unauthorized")
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s: Content-Type %q", what, ct)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no WWW-Authenticate header", what)
				}
			}
		}
		if len(public) != 2 || !public["POST /api/v1/auth/login"] || !public["GET /api/v1/health"] {
			t.Errorf("routes without security in the document: %v, want health and login", public)
		}
	})

	t.Run("login", func(t *testing.T) {
		ta := ta.with(t)
		st, body := ta.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "wrong"})
		wantError(t, "wrong password", st, body, http.StatusUnauthorized, "unauthorized")
		st, body = ta.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": adminPassword})
		wantError(t, "unknown user", st, body, http.StatusUnauthorized, "unauthorized")
		st, body = ta.do("POST", "/api/v1/auth/login", "", `{"type":`)
		wantError(t, "malformed JSON", st, body, http.StatusBadRequest, "invalid_json")
		st, body = ta.do("POST", "/api/v1/auth/login", "", "")
		wantError(t, "empty body", st, body, http.StatusBadRequest, "invalid_json")
	})

	t.Run("bad input", func(t *testing.T) {
		ta := ta.with(t)
		for _, c := range []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"malformed JSON", `{"type":`, http.StatusBadRequest, "invalid_json"},
			{"trailing data", `{"type":"rtsp","url":"rtsp://127.0.0.1/x"} {}`, http.StatusBadRequest, "invalid_json"},
			{"wrong field type", `{"type":1}`, http.StatusBadRequest, "invalid_json"},
			{"type missing", map[string]string{"url": "rtsp://127.0.0.1:554/x"}, http.StatusBadRequest, "bad_request"},
			{"unknown type", map[string]string{"type": "webrtc", "url": "rtsp://127.0.0.1:554/x"}, http.StatusBadRequest, "bad_request"},
			{"http URL", map[string]string{"type": "rtsp", "url": "http://127.0.0.1/x"}, http.StatusBadRequest, "bad_request"},
			{"URL without host", map[string]string{"type": "rtsp", "url": "rtsp:///x"}, http.StatusBadRequest, "bad_request"},
			{"not a URL", map[string]string{"type": "rtsp", "url": "::not a url"}, http.StatusBadRequest, "bad_request"},
			{"URL missing", map[string]string{"type": "rtsp"}, http.StatusBadRequest, "bad_request"},
		} {
			st, body := ta.do("POST", "/api/v1/devices", ta.token, c.body)
			wantError(t, "POST /devices: "+c.name, st, body, c.status, c.code)
		}
		var l list[deviceJSON]
		ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &l)
		if l.Total != 0 || len(l.Items) != 0 {
			t.Errorf("rejected devices were stored: %+v", l)
		}
	})

	t.Run("not found", func(t *testing.T) {
		ta := ta.with(t)
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/devices/999"},
			{"GET", "/api/v1/devices/abc"},
			{"GET", "/api/v1/devices/0"},
			{"PATCH", "/api/v1/devices/999"},
			{"DELETE", "/api/v1/devices/999"},
			{"GET", "/api/v1/devices/999/channels"},
			{"GET", "/api/v1/channels/999"},
			{"PATCH", "/api/v1/channels/999"},
			{"GET", "/api/v1/no-such-route"},
			{"GET", "/live/ch999.flv"},
			{"GET", "/ws/live/ch999.flv"},
			{"GET", "/ws/live/ch1.webm"},
		} {
			var body any
			if c.method == "PATCH" {
				body = map[string]string{"name": "x"}
			}
			st, b := ta.do(c.method, c.path, ta.token, body)
			wantError(t, c.method+" "+c.path, st, b, http.StatusNotFound, "not_found")
		}
		st, b := ta.do("PUT", "/api/v1/devices", ta.token, "{}")
		wantError(t, "PUT /devices", st, b, http.StatusMethodNotAllowed, "method_not_allowed")
	})
}

// forge returns tok with one character of its MAC changed. The character is
// taken from the middle: the last one of an unpadded base64 MAC also holds
// two unused bits, which a lenient decoder ignores.
func forge(tok string) string {
	b := []byte(tok)
	i := strings.IndexByte(tok, '.') + 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestDeviceCRUD adds, reads, changes and deletes an RTSP camera whose URL
// holds a password, and checks that the password never leaves the server
// but is kept when the client sends the masked URL back.
func TestDeviceCRUD(t *testing.T) {
	t.Parallel()
	const user, password = "user", "secret"
	src := newSource(t, testsrc.ServerConfig{Username: user, Password: password}, "cam", testsrc.ClipH264, testsrc.ClipAAC)
	ta := startFreshApp(t)

	var d deviceJSON
	ta.api("POST", "/api/v1/devices", map[string]any{"type": "rtsp", "name": "cam", "url": credURL(src, user, password, "cam")}, http.StatusCreated, &d)
	masked := "rtsp://user:***@" + src.Addr() + "/cam"
	if d.ID <= 0 || d.Type != "rtsp" || d.Name != "cam" || d.URL != masked || d.Status != "idle" || d.Channels != 1 || d.AlwaysOn {
		t.Fatalf("created %+v, want url %q", d, masked)
	}
	path := fmt.Sprintf("/api/v1/devices/%d", d.ID)

	var l list[deviceJSON]
	ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &l)
	if l.Total != 1 || len(l.Items) != 1 || l.Items[0].ID != d.ID || l.Items[0].URL != masked {
		t.Fatalf("list %+v", l)
	}
	var got deviceJSON
	ta.api("GET", path, nil, http.StatusOK, &got)
	if got != d {
		t.Fatalf("get %+v, created %+v", got, d)
	}
	var chans list[channelJSON]
	ta.api("GET", path+"/channels", nil, http.StatusOK, &chans)
	if len(chans.Items) != 1 {
		t.Fatalf("channels %+v", chans)
	}
	ch := chans.Items[0]

	// The camera requires the password: playing proves the server has it.
	play := func(what string) {
		t.Helper()
		resp := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: FLV status %d: %s", what, resp.StatusCode, b)
		}
		readFLV(t, resp.Body, flvWant{video: "H264", audio: "AAC"}, 200)
		ta.api("GET", "/api/v1/streams", nil, http.StatusOK, nil) // the running stream, for the leak check
		ta.api("GET", "/api/v1/channels", nil, http.StatusOK, nil)
		ta.api("GET", path, nil, http.StatusOK, nil)
	}
	play("after create")

	ta.api("PATCH", path, map[string]string{"name": "front door"}, http.StatusOK, &got)
	if got.Name != "front door" || got.URL != masked {
		t.Fatalf("after PATCH name: %+v", got)
	}
	if c := ta.channel(ch.ID); c.Name != "front door" {
		t.Errorf("channel name %q after renaming the device", c.Name)
	}
	ta.api("PATCH", path, map[string]string{"name": "  "}, http.StatusBadRequest, nil)

	// The client sends back the URL it was shown, with another path.
	src.AddStream("cam2", mustVideo(t, testsrc.ClipH264), nil)
	ta.api("PATCH", path, map[string]string{"url": "rtsp://user:***@" + src.Addr() + "/cam2"}, http.StatusOK, &got)
	if want := "rtsp://user:***@" + src.Addr() + "/cam2"; got.URL != want {
		t.Fatalf("after PATCH url: %q, want %q", got.URL, want)
	}
	play2 := func() {
		resp := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("after PATCH url: FLV status %d: %s", resp.StatusCode, b)
		}
		readFLV(t, resp.Body, flvWant{video: "H264"}, 200)
	}
	play2()
	ta.api("PATCH", path, map[string]string{"url": "http://x/y"}, http.StatusBadRequest, nil)

	// Without the password the camera refuses us: the error says so and
	// still does not show the password of the other device.
	bare, bareCh := ta.addDevice("bare", src.URL("cam"))
	st, body := ta.do("GET", bareCh.Play.FLV+"?token="+ta.token, "", nil)
	e := wantError(t, "FLV without credentials", st, body, http.StatusServiceUnavailable, "stream_unavailable")
	if !strings.Contains(e.Error.Message, "authentication failed") {
		t.Errorf("FLV without credentials: message %q", e.Error.Message)
	}
	ta.api("GET", "/api/v1/devices", nil, http.StatusOK, nil)
	ta.api("GET", "/api/v1/channels", nil, http.StatusOK, nil)
	ta.api("DELETE", fmt.Sprintf("/api/v1/devices/%d", bare.ID), nil, http.StatusNoContent, nil)

	for _, b := range ta.apiBodies() {
		if strings.Contains(b, password) {
			t.Fatalf("the password appears in an API answer: %s", b)
		}
	}
	if strings.Contains(ta.logs.String(), password) {
		t.Errorf("the password appears in the log")
	}

	st, body = ta.do("DELETE", path, ta.token, nil)
	if st != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("DELETE: %d %q", st, body)
	}
	st, body = ta.do("GET", path, ta.token, nil)
	wantError(t, "GET after DELETE", st, body, http.StatusNotFound, "not_found")
	st, body = ta.do("DELETE", path, ta.token, nil)
	wantError(t, "DELETE twice", st, body, http.StatusNotFound, "not_found")
	st, body = ta.do("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
	wantError(t, "FLV after DELETE", st, body, http.StatusNotFound, "not_found")
	ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &l)
	if l.Total != 0 || len(l.Items) != 0 {
		t.Fatalf("list after DELETE: %+v", l)
	}
	var cl list[channelJSON]
	ta.api("GET", "/api/v1/channels", nil, http.StatusOK, &cl)
	if len(cl.Items) != 0 {
		t.Fatalf("channels after DELETE: %+v", cl)
	}
	eventually(t, "no running stream after DELETE", func() bool {
		var sl list[streamJSON]
		ta.api("GET", "/api/v1/streams", nil, http.StatusOK, &sl)
		return len(sl.Items) == 0
	}, nil)
}

func mustVideo(t *testing.T, name string) *testsrc.VideoClip {
	t.Helper()
	v, err := testsrc.LoadVideo(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestChannels checks the channel listings and their play URLs.
func TestChannels(t *testing.T) {
	t.Parallel()
	ta := startApp(t)
	d1, _ := ta.addDevice("one", "rtsp://127.0.0.1:1/a")
	d2, _ := ta.addDevice("two", "rtsp://127.0.0.1:1/b")

	var all list[channelJSON]
	ta.api("GET", "/api/v1/channels", nil, http.StatusOK, &all)
	if len(all.Items) != 2 || all.Total != 2 {
		t.Fatalf("channels %+v", all)
	}
	seen := map[int64]bool{}
	for _, ch := range all.Items {
		seen[ch.DeviceID] = true
		name := fmt.Sprintf("ch%d", ch.ID)
		if ch.ID <= 0 || ch.Status != "idle" || ch.Stream != name || ch.AlwaysOn ||
			ch.Play.FLV != "/live/"+name+".flv" || ch.Play.WSFLV != "/ws/live/"+name+".flv" ||
			ch.Play.HLS != "/live/"+name+"/index.m3u8" || ch.Play.WSFMP4 != "/ws/live/"+name+".mp4" {
			t.Errorf("channel %+v", ch)
		}
	}
	if !seen[d1.ID] || !seen[d2.ID] {
		t.Errorf("channels belong to %v, want devices %d and %d", seen, d1.ID, d2.ID)
	}
	for _, d := range []deviceJSON{d1, d2} {
		var l list[channelJSON]
		ta.api("GET", fmt.Sprintf("/api/v1/devices/%d/channels", d.ID), nil, http.StatusOK, &l)
		if len(l.Items) != 1 || l.Items[0].DeviceID != d.ID || l.Items[0].Name != d.Name {
			t.Errorf("channels of device %d: %+v", d.ID, l)
		}
	}

	// The raw JSON has exactly the documented keys of a channel.
	var raw struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	ta.api("GET", "/api/v1/channels", nil, http.StatusOK, &raw)
	for _, k := range []string{"id", "device_id", "name", "status", "play", "stream", "always_on"} {
		if _, ok := raw.Items[0][k]; !ok {
			t.Errorf("channel has no %q: %v", k, raw.Items[0])
		}
	}
	if _, ok := raw.Items[0]["url"]; ok {
		t.Errorf("channel shows its source URL")
	}

	var ch channelJSON
	ta.api("PATCH", fmt.Sprintf("/api/v1/channels/%d", all.Items[0].ID), map[string]string{"name": "renamed"}, http.StatusOK, &ch)
	if ch.Name != "renamed" || ch.ID != all.Items[0].ID {
		t.Errorf("PATCH channel: %+v", ch)
	}
	st, body := ta.do("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch.ID), ta.token, `{"always_on":`)
	wantError(t, "PATCH channel malformed", st, body, http.StatusBadRequest, "invalid_json")
}
