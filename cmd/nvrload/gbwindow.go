package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// gbSnapshot is what the gb command reads at each end of its window: the
// streams' counters, the machine's UDP counters, and the drops of the nvr's
// own UDP sockets.
type gbSnapshot struct {
	at      time.Time
	streams map[string]gbStream
	udp     udpCounters
	drops   socketDrops // the nvr's UDP sockets
	// simDrops are the simulator's UDP sockets (nil without -sim-pid): with
	// the nvr's, what the machine's RcvbufErrors can be checked against.
	simDrops socketDrops
	loadavg  string
}

// takeGBSnapshot reads the counters; pid is the nvr's, simPID the
// simulator's (0: none).
func takeGBSnapshot(ctx context.Context, api *apiClient, pid, simPID int) (gbSnapshot, error) {
	var s gbSnapshot
	var err error
	if s.udp, err = readUDPCounters(); err != nil {
		return s, err
	}
	if s.drops, err = readSocketDrops(pid); err != nil {
		return s, fmt.Errorf("sockets of pid %d: %w", pid, err)
	}
	if simPID > 0 {
		if s.simDrops, err = readSocketDrops(simPID); err != nil {
			return s, fmt.Errorf("sockets of pid %d: %w", simPID, err)
		}
	}
	s.loadavg = readLoadAvg()
	s.at = time.Now()
	if s.streams, err = api.gbStreams(ctx); err != nil {
		return s, err
	}
	return s, nil
}

// readLoadAvg returns the three load averages of /proc/loadavg, or "?".
func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// readCPUPressure returns the "some" line of /proc/pressure/cpu (the share
// of time some runnable task waited for a core), or "" without PSI.
func readCPUPressure() string {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return ""
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimPrefix(string(line), "some ")
}

// gbStreamWindow is one stream's delivery over the window.
type gbStreamWindow struct {
	name      string
	transport string
	// bitrate is the payload (access units) received, in bit/s.
	bitrate                            float64
	packets, lost, reordered, dropped  uint64
	restarted, missing, notOnlineAtEnd bool
}

// gbWindow sums up the streams over a window.
type gbWindow struct {
	streams    []gbStreamWindow
	wall       time.Duration
	transports map[string]int
	// missing: not running at one of the ends; restarted: started again
	// during the window (the counters began anew).
	missing, restarted, notOnline int
	packets, lost, reordered      uint64
	dropped                       uint64
	// worst is the stream with the highest loss.
	worst gbStreamWindow
}

// compareGB computes each stream's delivery between two snapshots.
func compareGB(names []string, a, b gbSnapshot) gbWindow {
	w := gbWindow{wall: b.at.Sub(a.at), transports: map[string]int{}}
	secs := w.wall.Seconds()
	for _, name := range names {
		sw := gbStreamWindow{name: name}
		s0, ok0 := a.streams[name]
		s1, ok1 := b.streams[name]
		switch {
		case !ok0 || !ok1 || s0.Ingest == nil || s1.Ingest == nil:
			sw.missing = true
			w.missing++
		case !s0.StartedAt.Equal(s1.StartedAt) || s1.Bytes < s0.Bytes || s1.Ingest.Packets < s0.Ingest.Packets:
			sw.restarted = true
			w.restarted++
		default:
			sw.transport = s1.Ingest.Transport
			if secs > 0 {
				sw.bitrate = float64(s1.Bytes-s0.Bytes) * 8 / secs
			}
			sw.packets = s1.Ingest.Packets - s0.Ingest.Packets
			sw.lost = s1.Ingest.Lost - min(s0.Ingest.Lost, s1.Ingest.Lost)
			sw.reordered = s1.Ingest.Reordered - min(s0.Ingest.Reordered, s1.Ingest.Reordered)
			sw.dropped = s1.Dropped - min(s0.Dropped, s1.Dropped)
		}
		if ok1 && s1.Status != "online" {
			sw.notOnlineAtEnd = true
			w.notOnline++
		}
		if ok1 && s1.Ingest != nil {
			w.transports[s1.Ingest.Transport]++
		}
		w.packets += sw.packets
		w.lost += sw.lost
		w.reordered += sw.reordered
		w.dropped += sw.dropped
		if lossRatio(sw.lost, sw.packets) > lossRatio(w.worst.lost, w.worst.packets) {
			w.worst = sw
		}
		w.streams = append(w.streams, sw)
	}
	return w
}

// lossRatio is lost ÷ (received + lost), 0 when nothing was expected.
func lossRatio(lost, received uint64) float64 {
	if lost+received == 0 {
		return 0
	}
	return float64(lost) / float64(lost+received)
}

// bitrates returns the bitrates of the streams measured over the whole
// window, in bit/s.
func (w gbWindow) bitrates() []float64 {
	var out []float64
	for _, s := range w.streams {
		if !s.missing && !s.restarted {
			out = append(out, s.bitrate)
		}
	}
	return out
}

// transportList words the transports the ingest reported, e.g. "udp ×200".
func (w gbWindow) transportList() string {
	keys := make([]string, 0, len(w.transports))
	for k := range w.transports {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, w.transports[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
