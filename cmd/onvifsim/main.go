// Command onvifsim runs a simulated ONVIF camera until interrupted: device,
// media and PTZ services over SOAP with WS-UsernameToken (or HTTP digest)
// checked against its own clock, a JPEG snapshot behind digest
// authentication, and optionally a WS-Discovery responder. The stream URIs
// it hands out point wherever -rtsp says, e.g. at a test RTSP server.
//
//	onvifsim -listen 127.0.0.1:8080 -user admin -pass secret -clock-offset 10m \
//	  -rtsp 'rtsp://127.0.0.1:8554/{token}' -profiles 1920x1080@25,640x360@15
//	onvifsim -vendor axis -auth digest -discovery
//	onvifsim -media2 -profiles 2560x1440@25:H265:4096:media2,640x360@15
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nvr/nvr/device/onvif/onvifsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseFlags(args []string, stderr io.Writer) (onvifsim.Config, bool, error) {
	var cfg onvifsim.Config
	var vendor, auth, profiles, discoveryAddr string
	var discovery, verbose bool
	fs := flag.NewFlagSet("onvifsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "HTTP address of the SOAP services and the snapshot")
	fs.StringVar(&cfg.Advertise, "advertise", "", "host:port put into XAddrs and URIs (default: the listen address)")
	fs.StringVar(&vendor, "vendor", string(onvifsim.VendorHikvision), "reply style and identity: hikvision, dahua or axis")
	fs.StringVar(&cfg.Username, "user", "admin", "account name; empty turns authentication off")
	fs.StringVar(&cfg.Password, "pass", "admin12345", "account password")
	fs.StringVar(&auth, "auth", "token", "SOAP authentication: token (WS-UsernameToken), digest (HTTP) or either")
	fs.IntVar(&cfg.AuthFailStatus, "auth-fail-status", 401, "HTTP status of a refused request (401 or 400)")
	fs.DurationVar(&cfg.ClockOffset, "clock-offset", 0, "how far the camera clock is from this host's, e.g. 10m or -1h")
	fs.StringVar(&profiles, "profiles", "1920x1080@25,640x360@15", "media profiles, WxH[@fps][:codec[:kbps[:media2]]] separated by commas; media2 lists the profile through Media2 only")
	fs.StringVar(&cfg.RTSPURL, "rtsp", "", `stream URI to advertise; "{token}" becomes the profile token (default: a vendor-shaped URI on port 554)`)
	fs.BoolVar(&cfg.NoPTZ, "no-ptz", false, "a fixed camera without PTZ")
	fs.BoolVar(&cfg.Media2, "media2", false, "offer the Media2 service (ONVIF Profile T), which lists every profile")
	fs.IntVar(&cfg.Presets, "presets", 4, "PTZ presets at start")
	fs.BoolVar(&discovery, "discovery", false, "answer WS-Discovery probes sent to the listen host, UDP port 3702")
	fs.StringVar(&discoveryAddr, "discovery-addr", "", "answer WS-Discovery probes sent to this UDP address (implies -discovery)")
	fs.StringVar(&cfg.MulticastInterface, "multicast-iface", "", "also answer multicast probes (239.255.255.250:3702) on this interface")
	fs.BoolVar(&verbose, "v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.Vendor = onvifsim.Vendor(vendor)
	switch auth {
	case "token":
		cfg.Auth = onvifsim.AuthUsernameToken
	case "digest":
		cfg.Auth = onvifsim.AuthHTTPDigest
	case "either":
		cfg.Auth = onvifsim.AuthEither
	default:
		return cfg, false, fmt.Errorf("-auth %q: want token, digest or either", auth)
	}
	if cfg.Presets == 0 {
		cfg.Presets = -1 // the flag's 0 means none
	}
	var err error
	if cfg.Profiles, err = parseProfiles(profiles); err != nil {
		return cfg, false, err
	}
	if !cfg.Media2 && slices.ContainsFunc(cfg.Profiles, func(p onvifsim.Profile) bool { return p.Media2Only }) {
		return cfg, false, errors.New("-profiles: a media2 profile needs -media2")
	}
	switch {
	case discoveryAddr != "":
		cfg.DiscoveryAddr = discoveryAddr
	case discovery:
		host, _, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return cfg, false, fmt.Errorf("-listen: %w", err)
		}
		cfg.DiscoveryAddr = net.JoinHostPort(host, "3702")
	}
	return cfg, verbose, nil
}

// parseProfiles reads "2560x1440@25:H265:4096:media2,640x360".
func parseProfiles(s string) ([]onvifsim.Profile, error) {
	var out []onvifsim.Profile
	for spec := range strings.SplitSeq(s, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		parts := strings.Split(spec, ":")
		p := onvifsim.Profile{Encoding: "H264", FPS: 25}
		size, fps, hasFPS := strings.Cut(parts[0], "@")
		w, h, ok := strings.Cut(size, "x")
		var err1, err2 error
		p.Width, err1 = strconv.Atoi(w)
		p.Height, err2 = strconv.Atoi(h)
		if !ok || err1 != nil || err2 != nil || p.Width <= 0 || p.Height <= 0 {
			return nil, fmt.Errorf("-profiles %q: want WxH[@fps][:codec[:kbps[:media2]]]", spec)
		}
		if hasFPS {
			n, err := strconv.Atoi(fps)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("-profiles %q: bad frame rate", spec)
			}
			p.FPS = n
		}
		if len(parts) > 1 && parts[1] != "" {
			p.Encoding = strings.ToUpper(parts[1])
		}
		// About 0.1 bit per pixel, as cameras default to.
		p.BitrateKbps = p.Width * p.Height * p.FPS / 10 / 1000
		if len(parts) > 2 && parts[2] != "" {
			n, err := strconv.Atoi(parts[2])
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("-profiles %q: bad bitrate", spec)
			}
			p.BitrateKbps = n
		}
		if len(parts) > 3 {
			if parts[3] != "media2" {
				return nil, fmt.Errorf("-profiles %q: the fourth field can only be media2", spec)
			}
			p.Media2Only = true
		}
		if len(parts) > 4 {
			return nil, fmt.Errorf("-profiles %q: too many fields", spec)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("-profiles: at least one profile")
	}
	if !slices.ContainsFunc(out, func(p onvifsim.Profile) bool { return !p.Media2Only }) {
		return nil, errors.New("-profiles: at least one profile not limited to media2")
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, verbose, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "onvifsim:", err)
		return 2
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	sim, err := onvifsim.NewServer(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "device service %s\n", sim.XAddr())
	if a := sim.DiscoveryAddr(); a != "" {
		fmt.Fprintf(stdout, "ws-discovery %s\n", a)
	}
	if cfg.MulticastInterface != "" {
		fmt.Fprintf(stdout, "ws-discovery multicast on %s\n", cfg.MulticastInterface)
	}
	<-ctx.Done()
	sim.Close()
	return 0
}
