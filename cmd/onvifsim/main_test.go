package main

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif"
	"github.com/nvr/nvr/device/onvif/onvifsim"
)

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-vendor", "dahua", "-user", "op", "-pass", "pw",
			"-clock-offset", "-10m", "-rtsp", "rtsp://127.0.0.1:8554/{token}", "-profiles", "2560x1440@20:H265,640x360",
			"-discovery-addr", "127.0.0.1:0"}, &stdout, io.Discard)
	}()
	var xaddr, disco string
	deadline := time.Now().Add(5 * time.Second)
	for xaddr == "" || disco == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no addresses printed: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
		for line := range strings.SplitSeq(stdout.String(), "\n") {
			if a, ok := strings.CutPrefix(line, "device service "); ok {
				xaddr = a
			}
			if a, ok := strings.CutPrefix(line, "ws-discovery "); ok {
				disco = a
			}
		}
	}
	d, err := onvif.Probe(ctx, xaddr, "op", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if d.Manufacturer != "Dahua" || len(d.Profiles) != 2 || d.Profiles[0].Codec != onvif.CodecH265 || d.Profiles[0].Width != 2560 ||
		d.Profiles[1].StreamURI != "rtsp://127.0.0.1:8554/MediaProfile001" {
		t.Errorf("%+v", d)
	}
	found, err := onvif.Discover(ctx, onvif.DiscoverOptions{Addresses: []string{disco}, Timeout: 500 * time.Millisecond})
	if err != nil || len(found) != 1 || !reflect.DeepEqual(found[0].XAddrs, []string{xaddr}) {
		t.Errorf("discovery: %+v, %v", found, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return")
	}
}

func TestFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"-discovery", "-listen", "127.0.0.1:9000", "-presets", "0", "-auth", "either"}, io.Discard)
	if err != nil || cfg.DiscoveryAddr != "127.0.0.1:3702" || cfg.Presets != -1 || cfg.Auth != onvifsim.AuthEither {
		t.Errorf("%+v, %v", cfg, err)
	}
	ps, err := parseProfiles("1920x1080@30:h265:8000, 640x360, 3840x2160@25:H265::media2")
	want := []onvifsim.Profile{
		{Encoding: "H265", Width: 1920, Height: 1080, FPS: 30, BitrateKbps: 8000},
		{Encoding: "H264", Width: 640, Height: 360, FPS: 25, BitrateKbps: 576},
		{Encoding: "H265", Width: 3840, Height: 2160, FPS: 25, BitrateKbps: 20736, Media2Only: true},
	}
	if err != nil || !reflect.DeepEqual(ps, want) {
		t.Errorf("%+v, %v", ps, err)
	}
	cfg, _, err = parseFlags([]string{"-media2", "-profiles", "2560x1440@25:H265:4096:media2,640x360"}, io.Discard)
	if err != nil || !cfg.Media2 || !cfg.Profiles[0].Media2Only {
		t.Errorf("-media2: %+v, %v", cfg, err)
	}
	for _, bad := range [][]string{{"-auth", "x"}, {"-profiles", "big"}, {"-profiles", "1x1@0"}, {"-profiles", ""}, {"extra"},
		{"-media2", "-profiles", "1x1:H264:1:media3"}, {"-media2", "-profiles", "1x1:H265:1:media2"},
		{"-profiles", "1x1,2x2:H265:1:media2"}, {"-media2", "-profiles", "1x1:H264:1:media2:x"}} {
		if _, _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if code := run(t.Context(), []string{"-vendor", "acme", "-listen", "127.0.0.1:0"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("unknown vendor: exit %d", code)
	}
	if code := run(t.Context(), []string{"-h"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
