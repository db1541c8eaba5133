package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGBNVR is the part of the nvr API the gb commands use: GB28181
// devices with video channels whose streams run while always_on or while
// a viewer reads them.
type fakeGBNVR struct {
	t   *testing.T
	flv []byte // what a viewer gets

	mu         sync.Mutex
	devices    []gbDevice
	channels   map[int64][]gbChannel // by device
	alwaysOn   map[int64]bool        // by channel
	started    map[string]time.Time  // running streams
	transports []string              // PATCHed stream_transports, in order
}

func newFakeGBNVR(t *testing.T, devices, perDevice int) *fakeGBNVR {
	f := &fakeGBNVR{t: t, flv: flvFile(t, 0, 40), channels: map[int64][]gbChannel{},
		alwaysOn: map[int64]bool{}, started: map[string]time.Time{}}
	id := int64(1)
	for d := range devices {
		dev := gbDevice{ID: int64(d + 1), Type: "gb28181", GBID: fmt.Sprintf("340200000013200000%02d", d+1), Online: true}
		f.devices = append(f.devices, dev)
		// A group node first, which is not a video channel.
		f.channels[dev.ID] = append(f.channels[dev.ID], gbChannel{ID: 1000 + dev.ID, DeviceID: dev.ID, GBID: "g", Kind: "group", Status: "ON"})
		for range perDevice {
			ch := gbChannel{ID: id, DeviceID: dev.ID, GBID: fmt.Sprintf("3402000000131%07d", id), Kind: "channel", Status: "ON",
				Stream: "ch" + strconv.FormatInt(id, 10)}
			ch.Play.FLV = "/live/" + ch.Stream + ".flv"
			f.channels[dev.ID] = append(f.channels[dev.ID], ch)
			id++
		}
	}
	return f
}

func (f *fakeGBNVR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/api/v1/auth/login":
		reply(map[string]string{"token": "tok"})
		return
	case r.Header.Get("Authorization") != "Bearer tok" && r.URL.Query().Get("token") != "tok":
		http.Error(w, "no token", http.StatusUnauthorized)
	case r.Method == http.MethodGet && p == "/api/v1/devices":
		reply(map[string]any{"items": f.devices})
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/channels"):
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v1/devices/"), "/channels"), 10, 64)
		chans := f.channels[id]
		for i := range chans {
			chans[i].AlwaysOn = f.alwaysOn[chans[i].ID]
		}
		reply(map[string]any{"items": chans})
	case r.Method == http.MethodPatch && strings.HasPrefix(p, "/api/v1/channels/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(p, "/api/v1/channels/"), 10, 64)
		var in struct {
			AlwaysOn bool `json:"always_on"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.alwaysOn[id] = in.AlwaysOn
		name := "ch" + strconv.FormatInt(id, 10)
		if in.AlwaysOn {
			f.started[name] = time.Now()
		} else {
			delete(f.started, name)
		}
		reply(map[string]any{"id": id})
	case r.Method == http.MethodPatch && strings.HasPrefix(p, "/api/v1/devices/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(p, "/api/v1/devices/"), 10, 64)
		var in struct {
			StreamTransport string `json:"stream_transport"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.transports = append(f.transports, in.StreamTransport)
		for i := range f.devices {
			if f.devices[i].ID == id {
				f.devices[i].StreamTransport = in.StreamTransport
			}
		}
		reply(map[string]any{"id": id})
	case r.Method == http.MethodGet && p == "/api/v1/streams":
		var items []gbStream
		for name, at := range f.started {
			// 250 packets and 250 kB a second, one packet in 1000 lost.
			ms := uint64(time.Since(at).Milliseconds()) + 1
			now := time.Now()
			items = append(items, gbStream{Name: name, Status: "online", StartedAt: at, Bytes: ms * 250, LastUnitAt: &now,
				Ingest: &gbIngest{Protocol: "gb28181", Transport: "udp", Packets: ms / 4, Lost: ms / 4000}})
		}
		reply(map[string]any{"items": items})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/live/"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/live/"), ".flv")
		if _, running := f.started[name]; running {
			f.t.Errorf("%s: not a cold start", name)
		}
		f.started[name] = time.Now()
		f.mu.Unlock()
		w.Header().Set("Content-Type", "video/x-flv")
		_, _ = w.Write(f.flv)
		f.mu.Lock()
		delete(f.started, name) // the viewer's end stops it at once (idle timeout 0)
	default:
		http.Error(w, "unexpected "+r.Method+" "+p, http.StatusNotFound)
		f.t.Errorf("unexpected %s %s", r.Method, p)
	}
}

func runForTest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	e := env{stdout: &out, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := map[string]func(context.Context, env, []string) error{"gb": runGB, "gbfirstframe": runGBFirstFrame}[args[0]]
	err := cmd(ctx, e, args[1:])
	return out.String(), err
}

func TestGBMeasuresAndCleansUp(t *testing.T) {
	f := newFakeGBNVR(t, 3, 2)
	srv := httptest.NewServer(f)
	defer srv.Close()

	out, err := runForTest(t, "gb", "-nvr", srv.URL, "-pass", "x", "-pid", strconv.Itoa(os.Getpid()),
		"-n", "5", "-transport", "tcp-passive", "-baseline", "0", "-settle", "0", "-duration", "1200ms")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"gb: 5 GB28181 channels on 3 devices, stream_transport tcp-passive",
		"streams            5 of 5 online at the end, 0 restarted and 0 missing",
		"per stream min 2.00, p50 2.00, max 2.00 Mbit/s",
		"cpu per channel",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.started) != 0 {
		t.Errorf("streams still running after the command: %v", f.started)
	}
	for id, on := range f.alwaysOn {
		if on {
			t.Errorf("channel %d left always-on", id)
		}
	}
	// Three set to tcp-passive, then three restored to the default.
	if want := "tcp-passive tcp-passive tcp-passive udp udp udp"; strings.Join(f.transports, " ") != want {
		t.Errorf("transports %q, want %q", f.transports, want)
	}
}

func TestGBNeedsEnoughIdleChannels(t *testing.T) {
	f := newFakeGBNVR(t, 1, 2)
	f.alwaysOn[1] = true // someone else's
	srv := httptest.NewServer(f)
	defer srv.Close()
	_, err := runForTest(t, "gb", "-nvr", srv.URL, "-pid", "1", "-n", "2", "-baseline", "0")
	if err == nil || !strings.Contains(err.Error(), "only 1 idle") {
		t.Errorf("err %v, want only 1 idle", err)
	}
	if !f.alwaysOn[1] || f.alwaysOn[2] {
		t.Errorf("always_on changed: %v", f.alwaysOn)
	}
}

func TestGBFirstFrameColdStarts(t *testing.T) {
	f := newFakeGBNVR(t, 2, 2)
	srv := httptest.NewServer(f)
	defer srv.Close()
	// 6 attempts on 4 channels: the last two reuse channels, after their
	// streams stopped.
	out, err := runForTest(t, "gbfirstframe", "-nvr", srv.URL, "-n", "6", "-interval", "0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"6 cold starts of HTTP-FLV viewers on 4 GB28181 channels (2 devices)", "every cold start within 1s: met"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestGBRefusesBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"remote nvr", []string{"gb", "-nvr", "http://192.0.2.1:8080", "-pid", "1"}, 1, "loopback"},
		{"without pid", []string{"gb"}, 1, "-pid is required"},
		{"bad transport", []string{"gb", "-pid", "1", "-transport", "sctp"}, 1, "-transport"},
		{"too many", []string{"gb", "-pid", "1", "-n", "100000"}, 1, "-n must be"},
		{"firstframe help", []string{"gbfirstframe", "-h"}, 0, "-cold-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
