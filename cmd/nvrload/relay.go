package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"
)

// Targets of issue #2 for relaying cameras with no viewers.
const (
	targetCPUPerCamera = 0.3     // % of one core
	targetRSSPerCamera = 1 << 20 // bytes
)

func runRelay(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var nf nvrFlags
	nf.register(fs)
	n := fs.Int("n", 50, "number of cameras to add (<prefix>0 … <prefix>N-1)")
	duration := fs.Duration("duration", 60*time.Second, "measuring window")
	baseline := fs.Duration("baseline", 10*time.Second, "window measured before adding the cameras")
	settle := fs.Duration("settle", 10*time.Second, "wait between all channels online and the window")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := nf.validate(true); err != nil {
		return err
	}
	if *n < 1 || *n > maxCameras {
		return fmt.Errorf("-n must be 1 to %d", maxCameras)
	}
	if *duration <= 0 || *duration > time.Hour || *baseline <= 0 || *baseline > time.Hour {
		return fmt.Errorf("-duration and -baseline must be between 0 and 1h")
	}

	p := proc{pid: nf.pid, hz: clockTicks(ctx)}
	api, err := nf.login(ctx)
	if err != nil {
		return err
	}

	e.log.Info("measuring baseline", "window", *baseline)
	idle, err := measure(ctx, p, *baseline, nf.watch(p.hz, false))
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	cams, err := nf.addCameras(ctx, api, *n, e.log)
	if err != nil {
		return err
	}
	defer cams.remove()
	began := time.Now()
	if err := api.waitOnline(ctx, cams.ids(), nf.onlineTimeout); err != nil {
		return err
	}
	onlineAfter := time.Since(began).Round(time.Millisecond)
	e.log.Info("all channels online", "after", onlineAfter)
	if err := sleep(ctx, *settle); err != nil {
		return err
	}

	e.log.Info("measuring", "window", *duration)
	busy, err := measure(ctx, p, *duration, nf.watch(p.hz, false))
	if err != nil {
		return err
	}
	sts, err := api.streams(ctx)
	if err != nil {
		return err
	}

	cpu := busy.CPUPercent / float64(*n)
	rss := (busy.RSSMean - idle.RSSMean) / int64(*n)
	w := e.stdout
	fmt.Fprintf(w, "relay: %d cameras from %s/%s0…, nvr pid %d, CLK_TCK %d\n", *n, nf.rtsp, nf.prefix, nf.pid, p.hz)
	fmt.Fprintf(w, "  all online after   %s\n", onlineAfter)
	fmt.Fprintf(w, "  idle               cpu %.2f %% of a core, rss mean %.1f MiB (%s)\n", idle.CPUPercent, mib(idle.RSSMean), idle.Wall.Round(time.Second))
	fmt.Fprintf(w, "  with cameras       cpu %.2f %% of a core, rss mean %.1f MiB, max %.1f MiB (%s)\n",
		busy.CPUPercent, mib(busy.RSSMean), mib(busy.RSSMax), busy.Wall.Round(time.Second))
	fmt.Fprintf(w, "  cpu per camera     %.3f %% of a core (target < %.1f %%: %s)\n", cpu, targetCPUPerCamera, verdict(cpu < targetCPUPerCamera))
	fmt.Fprintf(w, "  rss per camera     %.2f MiB above idle (target < 1 MiB: %s)\n", mib(rss), verdict(rss < targetRSSPerCamera))
	fmt.Fprintf(w, "  machine            idle window: %s\n", idle.Machine())
	fmt.Fprintf(w, "  machine            busy window: %s\n", busy.Machine())
	printStreams(w, sts, cams)
	return nil
}

// printStreams sums up what the nvr reports of the added cameras' streams,
// to show they were really flowing during the window.
func printStreams(w io.Writer, sts []streamInfo, cams *cameraSet) {
	names := make(map[string]bool, len(cams.channels))
	for _, ch := range cams.channels {
		names[ch.Stream] = true
	}
	var fps []float64
	var bitrate, dropped int64
	online := 0
	for _, s := range sts {
		if !names[s.Name] {
			continue
		}
		if s.Status == "online" {
			online++
		}
		fps = append(fps, s.FPS)
		bitrate += s.Bitrate
		dropped += int64(s.Dropped)
	}
	if len(fps) == 0 {
		fmt.Fprintln(w, "  streams            none of the cameras' streams is running")
		return
	}
	fmt.Fprintf(w, "  streams            %d of %d online, fps min %.1f max %.1f, bitrate mean %.2f Mbit/s, dropped %d\n",
		online, len(cams.channels), slices.Min(fps), slices.Max(fps), float64(bitrate)/float64(len(fps))/1e6, dropped)
}

// verdict words a target check.
func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
