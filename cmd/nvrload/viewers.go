package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

// Limits of the viewers command.
const (
	// maxViewers bounds -n: each viewer is a socket and a goroutine here and
	// in the nvr.
	maxViewers = 5000
	// frameSlack is how many frames fewer than the window's length a viewer
	// may count and still be on time: the window's ends cut a batch in two,
	// and a viewer's TCP buffer may hold a few frames.
	frameSlack = 3
)

// targetCPUPerViewer is the issue #2 target, % of one core.
const targetCPUPerViewer = 0.05

func runViewers(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("viewers", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var nf nvrFlags
	nf.register(fs)
	n := fs.Int("n", 500, "number of concurrent viewers")
	duration := fs.Duration("duration", 30*time.Second, "measuring window")
	baseline := fs.Duration("baseline", 10*time.Second, "window measured with the camera but no viewers")
	settle := fs.Duration("settle", 3*time.Second, "wait after every viewer got its first frame")
	startTimeout := fs.Duration("start-timeout", 60*time.Second, "how long the viewers may take to get their first frame")
	fps := fs.Float64("fps", 25, "frame rate of the camera, for gap detection")
	chName := fs.String("channel", "", "watch this running channel's stream (e.g. ch3) instead of adding a camera")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := nf.validate(true); err != nil {
		return err
	}
	if *n < 1 || *n > maxViewers {
		return fmt.Errorf("-n must be 1 to %d", maxViewers)
	}
	if *duration <= 0 || *duration > time.Hour || *baseline <= 0 || *baseline > time.Hour || *fps <= 0 {
		return fmt.Errorf("-duration and -baseline must be between 0 and 1h, -fps positive")
	}
	lim, err := raiseNoFile(uint64(*n) + 256)
	if err != nil {
		return fmt.Errorf("raising RLIMIT_NOFILE: %w", err)
	}
	if lim < uint64(*n)+64 {
		return fmt.Errorf("RLIMIT_NOFILE is %d, too low for %d viewers", lim, *n)
	}

	p := proc{pid: nf.pid, hz: clockTicks(ctx)}
	api, err := nf.login(ctx)
	if err != nil {
		return err
	}
	ch, cleanup, err := nf.openChannel(ctx, api, *chName, e.log)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := sleep(ctx, *settle); err != nil {
		return err
	}

	e.log.Info("measuring baseline", "stream", ch.Stream, "window", *baseline)
	idle, err := measure(ctx, p, *baseline, nf.watch(p.hz, true))
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	dropped0, err := streamDropped(ctx, api, ch.Stream)
	if err != nil {
		return err
	}

	client := &http.Client{Transport: &http.Transport{
		DisableKeepAlives:     true,
		DisableCompression:    true,
		ResponseHeaderTimeout: *startTimeout,
	}}
	defer client.CloseIdleConnections()
	e.log.Info("opening viewers", "count", *n, "url", ch.Play.FLV)
	// The viewers' own deadline ends them even if this function is stuck.
	g := startViewers(ctx, client, api.playURL(ch.Play.FLV), *n, *fps, *startTimeout+*settle+*duration+30*time.Second)
	defer g.stop()

	began := time.Now()
	if err := g.waitStarted(ctx, *startTimeout); err != nil {
		return err
	}
	startedAfter := time.Since(began).Round(time.Millisecond)
	e.log.Info("all viewers receive frames", "after", startedAfter)
	if err := sleep(ctx, *settle); err != nil {
		return err
	}

	e.log.Info("measuring", "viewers", *n, "window", *duration)
	before := g.frames()
	busy, err := measure(ctx, p, *duration, nf.watch(p.hz, true))
	after := g.frames()
	if err != nil {
		return err
	}
	dropped1, err := streamDropped(ctx, api, ch.Stream)
	if err != nil {
		return err
	}
	g.stop()

	res := g.result(before, after)
	expected := busy.Wall.Seconds() * *fps
	perViewer := (busy.CPUPercent - idle.CPUPercent) / float64(*n)
	// Every frame arrived when none is missing from any viewer's timeline,
	// no viewer ended early and the nvr skipped nobody ahead. On time when,
	// besides, every viewer got the window's worth of frames within it.
	everyFrame := res.missing == 0 && res.failed == 0 && dropped1 == dropped0
	late := 0
	for _, f := range res.window {
		if float64(f) < expected-frameSlack {
			late++
		}
	}

	w := e.stdout
	fmt.Fprintf(w, "viewers: %d HTTP-FLV viewers of %s (%s), nvr pid %d, CLK_TCK %d\n", *n, ch.Stream, ch.Play.FLV, nf.pid, p.hz)
	fmt.Fprintf(w, "  all receiving after   %s\n", startedAfter)
	fmt.Fprintf(w, "  ended early           %d%s\n", res.failed, res.firstErr)
	fmt.Fprintf(w, "  frames in window      min %d, median %d, max %d (expected %.0f = %s × %g fps)\n",
		percentile(res.window, 0), percentile(res.window, 50), percentile(res.window, 100), expected, busy.Wall.Round(time.Millisecond), *fps)
	fmt.Fprintf(w, "  frames per viewer     min %d, median %d, max %d (whole run)\n",
		percentile(res.total, 0), percentile(res.total, 50), percentile(res.total, 100))
	fmt.Fprintf(w, "  missing frames        %d (frame slots the timestamps span that got no frame)\n", res.missing)
	fmt.Fprintf(w, "  steps > %.1f intervals %d, that would skip %d frames at face value (longest step %d ms); %d not rising; %d decode errors\n",
		gapFactor, res.gaps, res.skipped, res.maxStep, res.notRising, res.decodeErrs)
	fmt.Fprintf(w, "  nvr dropped units     %d while viewers ran\n", dropped1-dropped0)
	fmt.Fprintf(w, "  every frame to every viewer: %s; viewers behind real time in the window: %d\n", verdict(everyFrame), late)
	fmt.Fprintf(w, "  cpu                   %.2f %% of a core with 0 viewers, %.2f %% with %d\n", idle.CPUPercent, busy.CPUPercent, *n)
	fmt.Fprintf(w, "  rss                   %.1f MiB with 0 viewers, %.1f MiB with %d (%.1f KiB per viewer)\n",
		mib(idle.RSSMean), mib(busy.RSSMean), *n, float64(busy.RSSMean-idle.RSSMean)/1024/float64(*n))
	fmt.Fprintf(w, "  machine               0 viewers: %s\n", idle.Machine())
	fmt.Fprintf(w, "  machine               %d viewers: %s\n", *n, busy.Machine())
	fmt.Fprintf(w, "  per viewer            %.4f %% of a core (target < %.2f %%: %s)\n", perViewer, targetCPUPerViewer, verdict(perViewer < targetCPUPerViewer))
	return nil
}

// streamDropped returns the units the stream's readers have skipped.
func streamDropped(ctx context.Context, api *apiClient, name string) (uint64, error) {
	sts, err := api.streams(ctx)
	if err != nil {
		return 0, err
	}
	for _, s := range sts {
		if s.Name == name {
			return s.Dropped, nil
		}
	}
	return 0, fmt.Errorf("stream %s is not running", name)
}
