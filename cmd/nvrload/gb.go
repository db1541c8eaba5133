package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// Targets of issue #4 for receiving GB28181 media.
const (
	// targetCPUPerGBChannel is in % of one core.
	targetCPUPerGBChannel = 0.5
	// targetFirstKeyframeGB is from the request of a viewer of a channel
	// that is not running (INVITE included) to its first keyframe.
	targetFirstKeyframeGB = time.Second
)

// gbPollInterval is how often the gb commands read the stream list while
// they wait; each read costs the nvr a little, so not too often.
const gbPollInterval = time.Second

// errGBNotOnline is returned when streams are still not online with media
// at the deadline.
var errGBNotOnline = errors.New("streams not online")

func runGB(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("gb", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var gf gbFlags
	gf.register(fs)
	n := fs.Int("n", 200, "number of GB28181 video channels to start (always_on)")
	duration := fs.Duration("duration", 60*time.Second, "measuring window")
	baseline := fs.Duration("baseline", 10*time.Second, "window measured before the channels start (0: none)")
	settle := fs.Duration("settle", 10*time.Second, "wait between all streams online and the window")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := gf.validate(true); err != nil {
		return err
	}
	if *n < 1 || *n > maxGBChannels {
		return fmt.Errorf("-n must be 1 to %d", maxGBChannels)
	}
	if *duration <= 0 || *duration > time.Hour || *baseline < 0 || *baseline > time.Hour || *settle < 0 || *settle > time.Hour {
		return errors.New("-duration, -baseline and -settle must be between 0 and 1h")
	}

	p := proc{pid: gf.pid, hz: clockTicks(ctx)}
	api, err := gf.login(ctx)
	if err != nil {
		return err
	}
	set, err := pickGBChannels(ctx, api, *n, *n, e.log)
	if err != nil {
		return err
	}
	defer set.restore()
	e.log.Info("channels picked", "channels", len(set.channels), "devices", len(set.devices()))

	var idle usage
	if *baseline > 0 {
		e.log.Info("measuring baseline", "window", *baseline)
		if idle, err = measure(ctx, p, *baseline, gf.watch(p.hz, false)); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
	}

	if err := set.setTransport(ctx, gf.transport); err != nil {
		return err
	}
	began := time.Now()
	if err := set.markAlwaysOn(ctx); err != nil {
		return err
	}
	if err := waitGBOnline(ctx, api, set.names(), gf.onlineTimeout); err != nil {
		return err
	}
	onlineAfter := time.Since(began).Round(time.Millisecond)
	e.log.Info("all streams online with media", "after", onlineAfter)
	if err := sleep(ctx, *settle); err != nil {
		return err
	}

	e.log.Info("measuring", "window", *duration)
	before, err := takeGBSnapshot(ctx, api, gf.pid, gf.simPID)
	if err != nil {
		return err
	}
	busy, err := measure(ctx, p, *duration, gf.watch(p.hz, true))
	if err != nil {
		return err
	}
	after, err := takeGBSnapshot(ctx, api, gf.pid, gf.simPID)
	if err != nil {
		return err
	}
	psi := readCPUPressure()
	win := compareGB(set.names(), before, after)
	report := gbReport{n: *n, devices: len(set.devices()), hz: p.hz, pid: gf.pid, transport: gf.transport,
		onlineAfter: onlineAfter, idle: idle, busy: busy, before: before, after: after, win: win, psi: psi}
	report.print(e.stdout)
	return nil
}

// waitGBOnline polls the stream list until every stream in names is
// online and has received RTP and an access unit, or timeout passes.
func waitGBOnline(ctx context.Context, api *apiClient, names []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	maxPolls := int(timeout/gbPollInterval) + 1
	ready, late := 0, ""
	for range maxPolls {
		sts, err := api.gbStreams(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		ready, late = 0, ""
		for _, name := range names {
			s, ok := sts[name]
			switch {
			case ok && s.Status == "online" && s.Ingest != nil && s.Ingest.Packets > 0 && s.LastUnitAt != nil:
				ready++
			case !ok:
				late = name + " is not running"
			default:
				late = fmt.Sprintf("%s is %s %s", name, s.Status, s.LastError)
			}
		}
		if err == nil && ready == len(names) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %s: %d of %d; e.g. %s", errGBNotOnline, timeout, ready, len(names), late)
		case <-time.After(gbPollInterval):
		}
	}
	return fmt.Errorf("%w after %d polls: %d of %d; e.g. %s", errGBNotOnline, maxPolls, ready, len(names), late)
}
