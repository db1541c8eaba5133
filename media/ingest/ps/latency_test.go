package ps

import (
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// TestMarkerLatency measures, over UDP on 127.0.0.1 and in real time, how
// long after the last packet of a frame leaves the sender the frame's unit
// is published, with the marker on the last packet and without markers
// (which is also what happened before markers were used). It takes about
// 15 s: run with PS_LATENCY=1 (docs/perf-gb-media.md).
func TestMarkerLatency(t *testing.T) {
	if os.Getenv("PS_LATENCY") == "" {
		t.Skip("set PS_LATENCY=1 to measure")
	}
	for _, never := range []bool{false, true} {
		cfg := senderConfig{video: testsrc.ClipH264HD, audio: testsrc.ClipAAC, ssrc: 1, extension: true, loops: 3, markerNever: never}
		lat := measureLatency(t, cfg)
		skip := 10 // the first frames, before the markers are trusted
		lat = lat[skip:]
		slices.Sort(lat)
		q := func(f float64) time.Duration { return lat[int(f*float64(len(lat)-1))].Round(10 * time.Microsecond) }
		name := "marker on the last packet"
		if never {
			name = "no marker (as before)"
		}
		t.Logf("%-26s %d frames: min %v p50 %v p90 %v p99 %v max %v", name, len(lat), q(0), q(0.5), q(0.9), q(0.99), q(1))
	}
}

// measureLatency sends the clips of cfg in real time to a running Conn and
// returns, per video frame, the time from the sending of its last packet to
// the publication of its unit.
func measureLatency(t *testing.T, cfg senderConfig) []time.Duration {
	r := newTestReceiver(t, false)
	c := open(t, r, TransportUDP, cfg.ssrc)
	c.SetRemote("", cfg.ssrc, true)
	var mu sync.Mutex
	var published []time.Time
	_, _ = runConn(t, c, RunConfig{OnUnit: func(u *unit.Unit) {
		if u.IsVideo() {
			now := time.Now()
			mu.Lock()
			published = append(published, now)
			mu.Unlock()
		}
	}})
	evs := buildEvents(t, cfg)
	groups := packetize(cfg, evs)
	send := udpSender(t, c.LocalPort())
	var sent []time.Time // the last packet of each video frame
	start := time.Now()
	for i, g := range groups {
		due := start.Add(time.Duration(evs[i].pts-evs[0].pts) * time.Second / 90000)
		time.Sleep(time.Until(due))
		for j, p := range g {
			if j == len(g)-1 && evs[i].video {
				sent = append(sent, time.Now())
			}
			if err := send(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(200 * time.Millisecond) // the last frame, without markers, waits for the end
	mu.Lock()
	defer mu.Unlock()
	n := min(len(sent), len(published))
	if n < len(sent)-1 {
		t.Fatalf("%d video units published for %d frames", len(published), len(sent))
	}
	lat := make([]time.Duration, n)
	for i := range n {
		lat[i] = published[i].Sub(sent[i])
	}
	return lat
}
