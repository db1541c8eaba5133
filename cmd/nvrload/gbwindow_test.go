package main

import (
	"testing"
	"time"
)

// gbTestStream builds a stream as the API reports it.
func gbTestStream(name string, started time.Time, bytes, packets, lost uint64) gbStream {
	s := gbStream{Name: name, Status: "online", Bytes: bytes, StartedAt: started}
	s.Ingest = &gbIngest{Protocol: "gb28181", Transport: "udp", Packets: packets, Lost: lost}
	return s
}

func TestCompareGB(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	started := t0.Add(-time.Minute)
	a := gbSnapshot{at: t0, streams: map[string]gbStream{
		"ch1": gbTestStream("ch1", started, 1000, 100, 0),
		"ch2": gbTestStream("ch2", started, 1000, 100, 1),
		"ch3": gbTestStream("ch3", started, 1000, 100, 0),
	}}
	b := gbSnapshot{at: t0.Add(10 * time.Second), streams: map[string]gbStream{
		"ch1": gbTestStream("ch1", started, 1000+2_500_000, 2100, 0),  // 2 Mbit/s, no loss
		"ch2": gbTestStream("ch2", started, 1000+1_250_000, 1090, 11), // 1 Mbit/s, 10 lost
		"ch3": gbTestStream("ch3", t0.Add(5*time.Second), 10, 5, 0),   // restarted
		// ch4 is not running at either end
	}}
	w := compareGB([]string{"ch1", "ch2", "ch3", "ch4"}, a, b)
	if w.missing != 1 || w.restarted != 1 || w.notOnline != 0 {
		t.Errorf("missing %d, restarted %d, not online %d; want 1, 1, 0", w.missing, w.restarted, w.notOnline)
	}
	if w.packets != 2000+990 || w.lost != 10 {
		t.Errorf("packets %d, lost %d; want 2990, 10", w.packets, w.lost)
	}
	if w.worst.name != "ch2" {
		t.Errorf("worst %q, want ch2", w.worst.name)
	}
	rates := w.bitrates()
	if len(rates) != 2 || rates[0] != 2e6 || rates[1] != 1e6 {
		t.Errorf("bitrates %v, want [2e6 1e6]", rates)
	}
	if got := w.transportList(); got != "udp ×3" {
		t.Errorf("transports %q", got)
	}
}

func TestLossRatio(t *testing.T) {
	for _, tc := range []struct {
		lost, received uint64
		want           float64
	}{{0, 0, 0}, {0, 10, 0}, {1, 99, 0.01}, {5, 0, 1}} {
		if got := lossRatio(tc.lost, tc.received); got != tc.want {
			t.Errorf("lossRatio(%d, %d) = %v, want %v", tc.lost, tc.received, got, tc.want)
		}
	}
}
