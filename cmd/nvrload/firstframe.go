package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"
)

// Limits of the firstframe command.
const (
	maxAttempts = 10000
	// attemptTimeout bounds one attempt; a healthy one takes milliseconds.
	attemptTimeout = 10 * time.Second
	// targetFirstFrame is the issue #2 target for a new viewer of a running
	// stream.
	targetFirstFrame = 100 * time.Millisecond
)

func runFirstFrame(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("firstframe", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var nf nvrFlags
	nf.register(fs)
	n := fs.Int("n", 50, "number of viewers opened one after another (-pid, optional, reports the nvr's CPU)")
	interval := fs.Duration("interval", 137*time.Millisecond, "pause between attempts; not a multiple of the frame interval, so attempts land at every point of a GOP")
	settle := fs.Duration("settle", 3*time.Second, "wait after the channel is online")
	chName := fs.String("channel", "", "use this running channel's stream (e.g. ch3) instead of adding a camera")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := nf.validate(false); err != nil {
		return err
	}
	if *n < 1 || *n > maxAttempts {
		return fmt.Errorf("-n must be 1 to %d", maxAttempts)
	}
	if *interval < 0 || *interval > time.Minute {
		return fmt.Errorf("-interval must be between 0 and 1m")
	}

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

	// A new connection each time, as a new player opens one.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	defer client.CloseIdleConnections()
	url := api.playURL(ch.Play.FLV)
	hz := clockTicks(ctx)
	procs := nf.watch(hz, true)
	if nf.pid > 0 {
		procs = append([]watched{{"nvr", proc{pid: nf.pid, hz: hz}}}, procs...)
	}
	lm, err := startLoad(hz, procs)
	if err != nil {
		return err
	}
	var took []time.Duration
	var bytes []int64
	failed := 0
	var firstErr error
	for i := range *n {
		if err := sleep(ctx, *interval); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		d, b, err := timeToKeyframe(actx, client, url)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.log.Warn("attempt failed", "attempt", i, "error", err)
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		took = append(took, d)
		bytes = append(bytes, b)
	}
	ld, err := lm.stop()
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "firstframe: %d new HTTP-FLV viewers of %s (%s), one every %s\n", *n, ch.Stream, ch.Play.FLV, *interval)
	if failed > 0 {
		fmt.Fprintf(w, "  failed   %d (first: %v)\n", failed, firstErr)
	}
	if len(took) == 0 {
		return fmt.Errorf("no attempt succeeded")
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "  request to end of first keyframe tag: min %s, p50 %s, p90 %s, p99 %s, max %s\n",
		ms(percentile(took, 0)), ms(percentile(took, 50)), ms(percentile(took, 90)), ms(percentile(took, 99)), ms(percentile(took, 100)))
	fmt.Fprintf(w, "  bytes read by then: p50 %d, max %d\n", percentile(bytes, 50), percentile(bytes, 100))
	fmt.Fprintf(w, "  machine: %s\n", ld.describe(0))
	fmt.Fprintf(w, "  every viewer within %s: %s\n", targetFirstFrame, verdict(failed == 0 && percentile(took, 100) < targetFirstFrame))
	return nil
}
