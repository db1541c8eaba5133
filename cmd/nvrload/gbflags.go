package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// maxGBChannels bounds -n of the gb commands: far above what one machine
// can receive, low enough that a typo does not start 100,000 calls.
const maxGBChannels = 5000

// gbCleanupTimeout bounds the cleanup at the end of a gb command, which
// runs after the command's context may have ended.
const gbCleanupTimeout = 60 * time.Second

// Stream transports a GB28181 device can be asked to use (the API's
// stream_transport).
var gbTransports = []string{"udp", "tcp-passive", "tcp-active"}

// gbFlags are the flags of the commands that drive the GB28181 channels
// of devices already registered with the nvr (by gbsim).
type gbFlags struct {
	apiFlags
	transport     string
	onlineTimeout time.Duration
}

func (f *gbFlags) register(fs *flag.FlagSet) {
	f.apiFlags.register(fs, "device simulator (gbsim)")
	fs.StringVar(&f.transport, "transport", "", "set the devices' stream_transport first: "+strings.Join(gbTransports, ", ")+" (empty: leave it); restored at the end")
	fs.DurationVar(&f.onlineTimeout, "online-timeout", 120*time.Second, "how long to wait for the streams to come online")
}

// validate checks the flags; needPID says whether the command samples the
// nvr process.
func (f *gbFlags) validate(needPID bool) error {
	if err := f.apiFlags.validate(needPID); err != nil {
		return err
	}
	if f.transport != "" && !slices.Contains(gbTransports, f.transport) {
		return fmt.Errorf("-transport %q: want one of %s", f.transport, strings.Join(gbTransports, ", "))
	}
	return nil
}

// gbSet is the GB28181 video channels a command uses, and what it changed
// on them and their devices so that restore can undo it.
type gbSet struct {
	api      *apiClient
	log      *slog.Logger
	channels []gbChannel
	// transports holds each device's stream_transport before the command
	// changed it.
	transports map[int64]string
	marked     []int64 // channels marked always-on
}

// pickGBChannels returns up to n video channels (catalog kind "channel",
// catalog status ON) of online GB28181 devices that are neither always-on
// nor running, taken from the devices round-robin so that each device
// carries about the same number of calls. Fewer than need is an error.
func pickGBChannels(ctx context.Context, api *apiClient, n, need int, log *slog.Logger) (*gbSet, error) {
	devs, err := api.gbDevices(ctx)
	if err != nil {
		return nil, err
	}
	running, err := api.gbStreams(ctx)
	if err != nil {
		return nil, err
	}
	var perDevice [][]gbChannel
	skipped := 0
	for _, d := range devs {
		if d.Type != "gb28181" || !d.Online {
			continue
		}
		chans, err := api.gbDeviceChannels(ctx, d.ID)
		if err != nil {
			return nil, fmt.Errorf("channels of device %d: %w", d.ID, err)
		}
		var usable []gbChannel
		for _, ch := range chans {
			if ch.GBID == "" || (ch.Kind != "" && ch.Kind != "channel") || ch.Status != "ON" {
				continue
			}
			if _, busy := running[ch.Stream]; busy || ch.AlwaysOn {
				skipped++
				continue
			}
			usable = append(usable, ch)
		}
		if len(usable) > 0 {
			perDevice = append(perDevice, usable)
		}
	}
	set := &gbSet{api: api, log: log, transports: map[int64]string{}}
	for i := 0; len(set.channels) < n; i++ {
		took := false
		for _, chans := range perDevice {
			if i < len(chans) && len(set.channels) < n {
				set.channels = append(set.channels, chans[i])
				took = true
			}
		}
		if !took {
			break
		}
	}
	if len(set.channels) < need {
		return nil, fmt.Errorf("only %d idle GB28181 video channels on %d online devices (%d more are running or always-on); %d needed",
			len(set.channels), len(perDevice), skipped, need)
	}
	return set, nil
}

// devices returns the ids of the set's devices, in order of first use.
func (s *gbSet) devices() []int64 {
	var ids []int64
	seen := map[int64]bool{}
	for _, ch := range s.channels {
		if !seen[ch.DeviceID] {
			seen[ch.DeviceID] = true
			ids = append(ids, ch.DeviceID)
		}
	}
	return ids
}

// setTransport sets the stream_transport of the set's devices, remembering
// the old value for restore.
func (s *gbSet) setTransport(ctx context.Context, transport string) error {
	if transport == "" {
		return nil
	}
	devs, err := s.api.gbDevices(ctx)
	if err != nil {
		return err
	}
	old := make(map[int64]string, len(devs))
	for _, d := range devs {
		old[d.ID] = d.StreamTransport
	}
	for _, id := range s.devices() {
		if old[id] == transport {
			continue
		}
		if err := s.api.setStreamTransport(ctx, id, transport); err != nil {
			return fmt.Errorf("device %d: %w", id, err)
		}
		s.transports[id] = old[id]
	}
	s.log.Info("stream transport set", "transport", transport, "devices", len(s.devices()), "changed", len(s.transports))
	return nil
}

// markAlwaysOn marks every channel of the set always-on: the hub starts it
// (an INVITE) and keeps it running.
func (s *gbSet) markAlwaysOn(ctx context.Context) error {
	for _, ch := range s.channels {
		if err := s.api.setAlwaysOn(ctx, ch.ID, true); err != nil {
			return fmt.Errorf("channel %d: %w", ch.ID, err)
		}
		s.marked = append(s.marked, ch.ID)
	}
	s.log.Info("channels marked always-on", "count", len(s.marked))
	return nil
}

// restore undoes markAlwaysOn (the hub stops the streams: BYE) and
// setTransport. It runs at the end, possibly after an interrupt, so it
// does not use the command's context.
func (s *gbSet) restore() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), gbCleanupTimeout)
	defer cancel()
	failed := 0
	for _, id := range s.marked {
		if err := s.api.setAlwaysOn(ctx, id, false); err != nil {
			failed++
			s.log.Warn("cannot clear always_on", "channel_id", id, "error", err)
		}
	}
	if len(s.marked) > 0 {
		s.log.Info("always_on cleared", "channels", len(s.marked), "failed", failed)
	}
	s.marked = nil
	for id, t := range s.transports {
		if t == "" {
			t = "udp" // the default, which the API does not take as ""
		}
		if err := s.api.setStreamTransport(ctx, id, t); err != nil {
			s.log.Warn("cannot restore stream_transport", "device_id", id, "error", err)
		}
	}
	s.transports = map[int64]string{}
}

// names returns the set's stream names.
func (s *gbSet) names() []string {
	out := make([]string, len(s.channels))
	for i, ch := range s.channels {
		out[i] = ch.Stream
	}
	return out
}
