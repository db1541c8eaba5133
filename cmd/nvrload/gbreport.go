package main

import (
	"fmt"
	"io"
	"time"
)

// gbReport is what the gb command measured.
type gbReport struct {
	n, devices, hz, pid int
	transport           string
	onlineAfter         time.Duration
	idle, busy          usage // idle is zero without a baseline
	before, after       gbSnapshot
	win                 gbWindow
	psi                 string
}

func (r gbReport) print(w io.Writer) {
	n := float64(r.n)
	t := r.transport
	if t == "" {
		t = "as configured"
	}
	fmt.Fprintf(w, "gb: %d GB28181 channels on %d devices, stream_transport %s (ingest reports %s), nvr pid %d, CLK_TCK %d\n",
		r.n, r.devices, t, r.win.transportList(), r.pid, r.hz)
	fmt.Fprintf(w, "  all online after   %s (always_on set to media on every stream)\n", r.onlineAfter)
	if r.idle.Samples > 0 {
		fmt.Fprintf(w, "  baseline           cpu %.2f %% of a core, rss mean %.1f MiB (%s, devices registered, no stream)\n",
			r.idle.CPUPercent, mib(r.idle.RSSMean), r.idle.Wall.Round(time.Second))
	}
	b := r.busy
	fmt.Fprintf(w, "  with streams       cpu %.2f %% of a core, rss mean %.1f MiB, max %.1f MiB (%s)\n",
		b.CPUPercent, mib(b.RSSMean), mib(b.RSSMax), b.Wall.Round(time.Second))
	cpu := b.CPUPercent / n
	fmt.Fprintf(w, "  cpu per channel    %.3f %% of a core", cpu)
	if r.idle.Samples > 0 {
		fmt.Fprintf(w, " (%.3f %% above the baseline)", (b.CPUPercent-r.idle.CPUPercent)/n)
	}
	fmt.Fprintf(w, " (target < %.1f %%: %s)\n", targetCPUPerGBChannel, verdict(cpu < targetCPUPerGBChannel))
	if r.idle.Samples > 0 {
		fmt.Fprintf(w, "  rss per channel    %.2f MiB above the baseline\n", mib((b.RSSMean-r.idle.RSSMean)/int64(r.n)))
	}

	rcv := r.after.udp.RcvbufErrors - min(r.before.udp.RcvbufErrors, r.after.udp.RcvbufErrors)
	inErr := r.after.udp.InErrors - min(r.before.udp.InErrors, r.after.udp.InErrors)
	drops, sockets := dropsDelta(r.before.drops, r.after.drops)
	fmt.Fprintf(w, "  udp (machine)      RcvbufErrors +%d, InErrors +%d during the window (all processes)\n", rcv, inErr)
	fmt.Fprintf(w, "  udp (nvr sockets)  %d datagrams dropped on %d of the nvr's %d UDP sockets (target: none: %s)\n",
		drops, sockets, len(r.after.drops), verdict(drops == 0))
	if r.after.simDrops != nil {
		sd, ss := dropsDelta(r.before.simDrops, r.after.simDrops)
		fmt.Fprintf(w, "  udp (simulator)    %d datagrams dropped on %d of its %d UDP sockets; the other %d RcvbufErrors were other processes' sockets or sockets closed during the window\n",
			sd, ss, len(r.after.simDrops), rcv-min(rcv, drops+sd))
	}

	win := r.win
	rates := win.bitrates()
	online := r.n - win.notOnline - win.missing
	fmt.Fprintf(w, "  streams            %d of %d online at the end, %d restarted and %d missing during the window\n",
		online, r.n, win.restarted, win.missing)
	if len(rates) > 0 {
		sum := sumRates(rates)
		fmt.Fprintf(w, "  bitrate            per stream min %.2f, p50 %.2f, max %.2f Mbit/s; all %.1f Mbit/s (payload, over %s)\n",
			percentile(rates, 0)/1e6, percentile(rates, 50)/1e6, percentile(rates, 100)/1e6, sum/1e6, win.wall.Round(time.Millisecond))
	}
	secs := win.wall.Seconds()
	fmt.Fprintf(w, "  rtp                %d packets (%.0f/s), lost %d (%.4f %%), reordered %d; worst stream %s: lost %d of %d\n",
		win.packets, float64(win.packets)/secs, win.lost, 100*lossRatio(win.lost, win.packets), win.reordered,
		orDash(win.worst.name), win.worst.lost, win.worst.packets+win.worst.lost)
	if win.packets > 0 && sumRates(rates) > 0 {
		// What each packet costs, which does not depend on how far behind a
		// loaded simulator fell.
		fmt.Fprintf(w, "  cpu per packet     %.2f µs (%.1f µs per received kB)\n",
			b.CPUPercent/100*secs*1e6/float64(win.packets), b.CPUPercent/100*secs*1e6/(sumRates(rates)*secs/8/1e3))
	}
	fmt.Fprintf(w, "  ring               %d units dropped for slow readers\n", win.dropped)
	fmt.Fprintf(w, "  machine            %s\n", b.Machine())
	fmt.Fprintf(w, "  load average       %s at the start, %s at the end; cpu pressure at the end: %s\n",
		r.before.loadavg, r.after.loadavg, orDash(r.psi))
	if r.idle.Samples > 0 {
		fmt.Fprintf(w, "  machine (baseline) %s\n", r.idle.Machine())
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sumRates(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum
}
