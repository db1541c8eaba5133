package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// rssInterval is how often RSS is sampled during a window: often enough to
// average out the saw-tooth of the Go heap between collections.
const rssInterval = 500 * time.Millisecond

// busyOthers is the CPU that unrelated processes may use, % of one core,
// before a window is flagged as disturbed: above it they compete with the
// nvr for cores and caches, and the real-time figures (frames on time,
// first-frame latency) measure the machine rather than the nvr.
const busyOthers = 20

// watched is a process that is part of the test (the camera simulator, the
// tool itself), whose CPU is measured so that it is not taken for
// unrelated load.
type watched struct {
	name string
	p    proc
}

// loadMeter measures the CPU used by the whole machine and by watched
// processes between start and stop.
type loadMeter struct {
	hz      int
	procs   []watched
	start   time.Time
	machine machineTicks
	cpu     []float64
}

func startLoad(hz int, procs []watched) (*loadMeter, error) {
	l := &loadMeter{hz: hz, procs: procs, start: time.Now(), cpu: make([]float64, len(procs))}
	var err error
	if l.machine, err = readMachineTicks(); err != nil {
		return nil, err
	}
	for i, w := range procs {
		if l.cpu[i], err = w.p.cpuSeconds(); err != nil {
			return nil, fmt.Errorf("%s (pid %d): %w", w.name, w.p.pid, err)
		}
	}
	return l, nil
}

// load is what a loadMeter measured, in % of one core.
type load struct {
	Machine float64   // the whole machine, up to 100 × cores
	Watched []float64 // each watched process, in order
	names   []string
}

func (l *loadMeter) stop() (load, error) {
	m, err := readMachineTicks()
	if err != nil {
		return load{}, err
	}
	wall := time.Since(l.start).Seconds()
	out := load{Machine: float64(m.busy-l.machine.busy) / float64(l.hz) / wall * 100}
	for i, w := range l.procs {
		c, err := w.p.cpuSeconds()
		if err != nil {
			return load{}, fmt.Errorf("%s (pid %d): %w", w.name, w.p.pid, err)
		}
		out.Watched = append(out.Watched, (c-l.cpu[i])/wall*100)
		out.names = append(out.names, w.name)
	}
	return out, nil
}

// describe words the load: the machine's total, the watched processes,
// and what is left for unrelated processes besides target (the CPU % of
// the process under test, already in Machine).
func (ld load) describe(target float64) string {
	others := ld.Machine - target
	var b strings.Builder
	fmt.Fprintf(&b, "%.0f %% of %d cores busy", ld.Machine, runtime.NumCPU())
	for i, name := range ld.names {
		fmt.Fprintf(&b, ", %s %.1f %%", name, ld.Watched[i])
		others -= ld.Watched[i]
	}
	others = max(others, 0)
	fmt.Fprintf(&b, ", other processes %.1f %% of a core", others)
	if others > busyOthers {
		b.WriteString(" — DISTURBED by other load")
	}
	return b.String()
}

// usage is what a process used over a window of wall time.
type usage struct {
	Wall time.Duration
	// CPUPercent is CPU time over wall time, in percent of one core.
	CPUPercent float64
	// RSSMean and RSSMax are over the samples taken every rssInterval.
	RSSMean, RSSMax int64
	Samples         int
	// Load is the machine's load during the window.
	Load load
}

// Machine describes the machine's load during the window.
func (u usage) Machine() string { return u.Load.describe(u.CPUPercent) }

// measure samples p for d (or until ctx ends, which cuts the window short
// and returns ctx's error). CPU time is read at both ends of the window;
// the machine and the watched processes are measured over the same window.
func measure(ctx context.Context, p proc, d time.Duration, watch []watched) (usage, error) {
	lm, err := startLoad(p.hz, watch)
	if err != nil {
		return usage{}, err
	}
	cpu0, err := p.cpuSeconds()
	if err != nil {
		return usage{}, err
	}
	start := time.Now()
	end := start.Add(d)
	var sum int64
	var u usage
	tick := time.NewTicker(rssInterval)
	defer tick.Stop()
	// Bounded by count as well as by time.
	maxSamples := int(d/rssInterval) + 2
	for u.Samples < maxSamples {
		rss, err := p.rss()
		if err != nil {
			return usage{}, err
		}
		sum += rss
		u.RSSMax = max(u.RSSMax, rss)
		u.Samples++
		if !time.Now().Before(end) {
			break
		}
		select {
		case <-ctx.Done():
			return usage{}, ctx.Err()
		case <-tick.C:
		case <-time.After(time.Until(end)):
		}
	}
	cpu1, err := p.cpuSeconds()
	if err != nil {
		return usage{}, err
	}
	if u.Load, err = lm.stop(); err != nil {
		return usage{}, err
	}
	u.Wall = time.Since(start)
	u.CPUPercent = (cpu1 - cpu0) / u.Wall.Seconds() * 100
	u.RSSMean = sum / int64(u.Samples)
	return u, nil
}

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }
