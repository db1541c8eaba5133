package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// errNotLoopback is returned for an address that is not on this machine:
// the tool generates heavy traffic and must never aim it at a network.
var errNotLoopback = errors.New("only loopback addresses are allowed")

// nvrFlags are the flags shared by the commands that drive an nvr.
// apiFlags are the flags of every command that drives a running nvr: where
// it is, how to log in, and which processes to sample.
type apiFlags struct {
	nvr, user, pass string
	pid, simPID     int
}

// register adds the flags; simulator names the simulator -sim-pid means.
func (f *apiFlags) register(fs *flag.FlagSet, simulator string) {
	fs.StringVar(&f.nvr, "nvr", "http://127.0.0.1:8080", "nvr base URL (loopback only)")
	fs.StringVar(&f.user, "user", "admin", "nvr username")
	fs.StringVar(&f.pass, "pass", "", "nvr password")
	fs.IntVar(&f.pid, "pid", 0, "pid of the nvr process to sample")
	fs.IntVar(&f.simPID, "sim-pid", 0, "pid of the "+simulator+", to report its CPU apart from unrelated load")
}

// validate checks the flags; needPID says whether the command samples the
// nvr process.
func (f *apiFlags) validate(needPID bool) error {
	f.nvr = strings.TrimRight(f.nvr, "/")
	if err := checkLoopbackURL(f.nvr, "http"); err != nil {
		return fmt.Errorf("-nvr: %w", err)
	}
	if needPID && f.pid <= 0 {
		return errors.New("-pid is required: the nvr process to sample")
	}
	return nil
}

type nvrFlags struct {
	apiFlags
	rtsp, prefix  string
	onlineTimeout time.Duration
}

func (f *nvrFlags) register(fs *flag.FlagSet) {
	f.apiFlags.register(fs, "camera simulator (nvrload camera)")
	fs.StringVar(&f.rtsp, "rtsp", "rtsp://127.0.0.1:8554", "base URL of the camera simulator (nvrload camera; loopback only)")
	fs.StringVar(&f.prefix, "prefix", "cam", "path prefix of the simulated cameras")
	fs.DurationVar(&f.onlineTimeout, "online-timeout", 60*time.Second, "how long to wait for channels to come online")
}

// validate checks the flags; needPID says whether the command samples the
// nvr process.
func (f *nvrFlags) validate(needPID bool) error {
	if err := f.apiFlags.validate(needPID); err != nil {
		return err
	}
	f.rtsp = strings.TrimRight(f.rtsp, "/")
	if err := checkLoopbackURL(f.rtsp, "rtsp"); err != nil {
		return fmt.Errorf("-rtsp: %w", err)
	}
	return nil
}

// checkLoopbackURL checks that u is a scheme:// URL whose host is a
// loopback address.
func checkLoopbackURL(u, scheme string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	if p.Scheme != scheme {
		return fmt.Errorf("%q: scheme must be %s", u, scheme)
	}
	return checkLoopbackHost(p.Hostname())
}

func checkLoopbackHost(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", errNotLoopback, host)
}

// watch returns the processes that are part of the test besides the nvr:
// the simulator when -sim-pid is set, and this process when self is true.
func (f *apiFlags) watch(hz int, self bool) []watched {
	var w []watched
	if f.simPID > 0 {
		w = append(w, watched{"simulator", proc{pid: f.simPID, hz: hz}})
	}
	if self {
		w = append(w, watched{"nvrload", proc{pid: os.Getpid(), hz: hz}})
	}
	return w
}

// login returns an API client logged in to the nvr.
func (f *apiFlags) login(ctx context.Context) (*apiClient, error) {
	api := newAPIClient(f.nvr)
	if err := api.login(ctx, f.user, f.pass); err != nil {
		return nil, err
	}
	return api, nil
}

// cameraSet is a group of RTSP devices the tool added, one channel each.
type cameraSet struct {
	api      *apiClient
	log      *slog.Logger
	devices  []int64
	channels []channel
}

// addCameras adds n always-on RTSP devices reading <rtsp>/<prefix>0 … and
// returns them; on error it removes those it added.
func (f *nvrFlags) addCameras(ctx context.Context, api *apiClient, n int, log *slog.Logger) (*cameraSet, error) {
	cs := &cameraSet{api: api, log: log}
	for i := range n {
		id, err := api.addRTSPDevice(ctx, fmt.Sprintf("nvrload-%s%d", f.prefix, i), fmt.Sprintf("%s/%s%d", f.rtsp, f.prefix, i), true)
		if err != nil {
			cs.remove()
			return nil, fmt.Errorf("adding camera %d: %w", i, err)
		}
		cs.devices = append(cs.devices, id)
		chans, err := api.deviceChannels(ctx, id)
		if err != nil || len(chans) == 0 {
			cs.remove()
			return nil, fmt.Errorf("channels of device %d: %d channels, %w", id, len(chans), err)
		}
		cs.channels = append(cs.channels, chans...)
	}
	log.Info("cameras added", "count", n)
	return cs, nil
}

// ids returns the channel ids.
func (cs *cameraSet) ids() []int64 {
	ids := make([]int64, len(cs.channels))
	for i, ch := range cs.channels {
		ids[i] = ch.ID
	}
	return ids
}

// remove deletes the devices. It runs at the end, possibly after an
// interrupt, so it does not use the command's context.
func (cs *cameraSet) remove() {
	if cs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range cs.devices {
		if err := cs.api.deleteDevice(ctx, id); err != nil {
			cs.log.Warn("cannot delete device", "device_id", id, "error", err)
		}
	}
	cs.log.Info("cameras removed", "count", len(cs.devices))
	cs.devices = nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// openChannel returns the channel to watch: the running one whose stream
// is named name, or, when name is empty, a camera it adds (<prefix>0), with
// the function that removes it. It waits until the channel is online.
func (f *nvrFlags) openChannel(ctx context.Context, api *apiClient, name string, log *slog.Logger) (channel, func(), error) {
	if name == "" {
		cams, err := f.addCameras(ctx, api, 1, log)
		if err != nil {
			return channel{}, nil, err
		}
		if err := api.waitOnline(ctx, cams.ids(), f.onlineTimeout); err != nil {
			cams.remove()
			return channel{}, nil, err
		}
		return cams.channels[0], cams.remove, nil
	}
	chans, err := api.channels(ctx)
	if err != nil {
		return channel{}, nil, err
	}
	for _, ch := range chans {
		if ch.Stream == name {
			if err := api.waitOnline(ctx, []int64{ch.ID}, f.onlineTimeout); err != nil {
				return channel{}, nil, err
			}
			return ch, func() {}, nil
		}
	}
	return channel{}, nil, fmt.Errorf("-channel: no channel streams as %q", name)
}
