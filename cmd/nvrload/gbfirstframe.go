package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/nvr/nvr/media/codec/flv"
)

// gbAttemptTimeout bounds one cold start: above the nvr's default
// media.start_timeout (10 s), so that the nvr's own answer is seen.
const gbAttemptTimeout = 15 * time.Second

// errStillRunning is returned when a channel's previous stream is still
// running at the deadline, so a new viewer of it would not be a cold start.
var errStillRunning = errors.New("stream still running")

func runGBFirstFrame(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("gbfirstframe", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var gf gbFlags
	gf.register(fs)
	n := fs.Int("n", 50, "number of cold starts, one channel after another (-pid, optional, reports the nvr's CPU)")
	interval := fs.Duration("interval", 500*time.Millisecond, "pause between attempts")
	coldTimeout := fs.Duration("cold-timeout", 60*time.Second, "with -n above the idle channels, how long to wait for a channel's previous stream to stop (media.idle_timeout) before it is used again")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := gf.validate(false); err != nil {
		return err
	}
	if *n < 1 || *n > maxAttempts {
		return fmt.Errorf("-n must be 1 to %d", maxAttempts)
	}
	if *interval < 0 || *interval > time.Minute || *coldTimeout <= 0 || *coldTimeout > time.Hour {
		return errors.New("-interval must be between 0 and 1m, -cold-timeout between 0 and 1h")
	}

	api, err := gf.login(ctx)
	if err != nil {
		return err
	}
	set, err := pickGBChannels(ctx, api, *n, 1, e.log)
	if err != nil {
		return err
	}
	defer set.restore()
	if err := set.setTransport(ctx, gf.transport); err != nil {
		return err
	}
	e.log.Info("channels picked", "channels", len(set.channels), "devices", len(set.devices()))

	// A new connection each time, as a new player opens one.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	defer client.CloseIdleConnections()
	hz := clockTicks(ctx)
	procs := gf.watch(hz, true)
	if gf.pid > 0 {
		procs = append([]watched{{"nvr", proc{pid: gf.pid, hz: hz}}}, procs...)
	}
	lm, err := startLoad(hz, procs)
	if err != nil {
		return err
	}
	loadStart := readLoadAvg()
	var res []coldStart
	failed := 0
	var firstErr error
	for i := range *n {
		ch := set.channels[i%len(set.channels)]
		// Cold means not running: after a wrap-around, the previous viewer's
		// stream runs until media.idle_timeout.
		if err := waitStopped(ctx, api, ch.Stream, *coldTimeout); err != nil {
			return err
		}
		if err := sleep(ctx, *interval); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, gbAttemptTimeout)
		cs, err := coldKeyframe(actx, client, api.playURL(ch.Play.FLV))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.log.Warn("attempt failed", "attempt", i, "stream", ch.Stream, "error", err)
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", ch.Stream, err)
			}
			continue
		}
		e.log.Debug("cold start", "attempt", i, "stream", ch.Stream, "headers", cs.headers, "keyframe", cs.keyframe)
		res = append(res, cs)
	}
	ld, err := lm.stop()
	if err != nil {
		return err
	}

	w := e.stdout
	t := gf.transport
	if t == "" {
		t = "as configured"
	}
	fmt.Fprintf(w, "gbfirstframe: %d cold starts of HTTP-FLV viewers on %d GB28181 channels (%d devices), stream_transport %s, one every %s\n",
		*n, len(set.channels), len(set.devices()), t, *interval)
	if failed > 0 {
		fmt.Fprintf(w, "  failed   %d (first: %v)\n", failed, firstErr)
	}
	if len(res) == 0 {
		return errors.New("no attempt succeeded")
	}
	var keys, heads []time.Duration
	var bytes []int64
	for _, r := range res {
		keys = append(keys, r.keyframe)
		heads = append(heads, r.headers)
		bytes = append(bytes, r.bytes)
	}
	fmt.Fprintf(w, "  request to end of first keyframe tag: %s\n", durationSpread(keys))
	fmt.Fprintf(w, "  request to response headers (the nvr's INVITE and wait for a keyframe): %s\n", durationSpread(heads))
	fmt.Fprintf(w, "  bytes read by the keyframe: p50 %d, max %d\n", percentile(bytes, 50), percentile(bytes, 100))
	fmt.Fprintf(w, "  machine: %s\n", ld.describe(0))
	fmt.Fprintf(w, "  load average %s at the start, %s at the end\n", loadStart, readLoadAvg())
	fmt.Fprintf(w, "  every cold start within %s: %s\n", targetFirstKeyframeGB,
		verdict(failed == 0 && percentile(keys, 100) < targetFirstKeyframeGB))
	return nil
}

// durationSpread words min, p50, p90, p99 and max of ds in milliseconds.
func durationSpread(ds []time.Duration) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("min %s, p50 %s, p90 %s, p99 %s, max %s",
		ms(percentile(ds, 0)), ms(percentile(ds, 50)), ms(percentile(ds, 90)), ms(percentile(ds, 99)), ms(percentile(ds, 100)))
}

// coldStart is the timing of one new viewer of a stream that was not
// running.
type coldStart struct {
	// headers is the time to the first byte of the response: the nvr
	// answers once the stream would give a keyframe at once.
	headers time.Duration
	// keyframe is the time to the end of the first video keyframe tag.
	keyframe time.Duration
	bytes    int64
}

// coldKeyframe opens a viewer of url and times it like timeToKeyframe,
// noting also when the response began.
func coldKeyframe(ctx context.Context, client *http.Client, url string) (coldStart, error) {
	var cs coldStart
	start := time.Now()
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { cs.headers = time.Since(start) }}
	body, err := openFLV(httptrace.WithClientTrace(ctx, trace), client, url)
	if err != nil {
		return cs, err
	}
	defer body.Close()
	cr := &countingReader{r: body}
	r := flv.NewReader(cr)
	for range maxTagsBeforeKey {
		t, err := r.ReadTag()
		if err != nil && t == nil {
			return cs, err
		}
		if _, key := videoFrame(t); key {
			cs.keyframe, cs.bytes = time.Since(start), cr.n
			return cs, nil
		}
	}
	return cs, fmt.Errorf("%w in the first %d tags", errNoKeyframe, maxTagsBeforeKey)
}

// waitStopped waits until the stream called name is no longer running, so
// that the next viewer starts it anew.
func waitStopped(ctx context.Context, api *apiClient, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for range int(timeout/gbPollInterval) + 1 {
		sts, err := api.gbStreams(ctx)
		if err == nil {
			if _, running := sts[name]; !running {
				return nil
			}
		} else if ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s after %s (is media.idle_timeout longer?)", errStillRunning, name, timeout)
		case <-time.After(gbPollInterval):
		}
	}
	return fmt.Errorf("%w: %s", errStillRunning, name)
}
