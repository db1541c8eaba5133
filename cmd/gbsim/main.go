// Command gbsim runs simulated GB/T 28181 devices against a platform until
// interrupted: each registers with digest authentication, sends keepalives,
// answers Catalog, DeviceInfo, DeviceStatus, RecordInfo, PresetQuery and
// ConfigDownload, records the controls it receives, and can reproduce
// vendor quirks. Many devices run from one process for load tests, each on
// its own port, with IDs derived from -id. With -report it prints, once
// every device has registered, when the first REGISTER went out and how long
// half, 90 % and all of the devices took to get their 200 OK (the figure of
// docs/perf-gb28181.md). The devices answer INVITEs for their channels
// (live, playback, download; -media selects what they send, -invite-* and
// the SSRC and end-of-playback switches reproduce devices' habits).
//
//	gbsim -server 127.0.0.1:5060 -count 100 -channels 16 -password 12345678
//	gbsim -server 127.0.0.1:5060 -count 5000 -channels 4 -password secret -report
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nvr/nvr/media/testsrc/gbmedia"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/gbsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed flags.
type options struct {
	server, transport, id, password, platformID, domain, localIP, charset string
	count, channels, perMessage, rate                                     int
	keepalive, expires, statsEvery                                        time.Duration
	tree, unregister, verbose, report                                     bool
	quirks                                                                gbsim.Quirks
	// media is what calls send (-media); mediaIP the address of the SDP
	// answers; silent the channel numbers (1-based) that never answer an
	// INVITE.
	media, mediaIP string
	mediaOpts      mediaOptions
	silent         []int
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("gbsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "127.0.0.1:5060", "platform SIP address host:port")
	fs.StringVar(&o.transport, "transport", "udp", "udp or tcp")
	fs.StringVar(&o.id, "id", gbsim.MakeID(132, 1), "ID of the first device; the next ones count up its last 6 digits")
	fs.IntVar(&o.count, "count", 1, "number of devices")
	fs.StringVar(&o.password, "password", "", "digest password")
	fs.StringVar(&o.platformID, "platform-id", gbsim.DefaultPlatformID, "platform SIP ID")
	fs.StringVar(&o.domain, "domain", gbsim.DefaultDomain, "platform SIP domain")
	fs.StringVar(&o.localIP, "local-ip", "127.0.0.1", "local address the devices bind")
	fs.IntVar(&o.channels, "channels", 1, "channels per device")
	fs.IntVar(&o.perMessage, "per-message", 10, "catalog and record items per response MESSAGE")
	fs.BoolVar(&o.tree, "tree", false, "add civil area, business group and virtual organisation nodes to the catalog")
	fs.DurationVar(&o.keepalive, "keepalive", 60*time.Second, "keepalive interval (0: none)")
	fs.DurationVar(&o.expires, "expires", time.Hour, "registration lifetime asked for")
	fs.StringVar(&o.charset, "charset", "gb2312", "body charset: gb2312 or utf8")
	fs.IntVar(&o.rate, "rate", 0, "devices started per second (0: all at once)")
	fs.DurationVar(&o.statsEvery, "stats", 10*time.Second, "interval of the status line (0: none)")
	fs.BoolVar(&o.unregister, "unregister", true, "unregister the devices on exit")
	fs.BoolVar(&o.verbose, "v", false, "debug logging")
	fs.BoolVar(&o.report, "report", false, "print the time from the first REGISTER until every device has its 200 OK")
	q := &o.quirks
	fs.BoolVar(&q.WrongProlog, "wrong-prolog", false, "quirk: declare the other charset in the XML prolog")
	fs.BoolVar(&q.WrongTypeDigits, "wrong-type", false, "quirk: type digits 000 in channel IDs")
	fs.BoolVar(&q.NoAnswer, "no-answer", false, "quirk: answer MESSAGEs 200 but never send query responses")
	fs.IntVar(&q.DuplicatePart, "dup-part", 0, "quirk: send this part (1-based) of multi-part responses twice")
	fs.Func("swap-parts", "quirk: swap parts, e.g. 2:3,7:9", func(s string) error {
		var err error
		q.SwapParts, err = parsePairs(s)
		return err
	})
	fs.Func("drop-parts", "quirk: never send these parts, e.g. 4,5", func(s string) error {
		var err error
		q.DropParts, err = parseInts(s)
		return err
	})
	fs.DurationVar(&q.PartDelay, "part-delay", 0, "quirk: wait this long before each part after the first")
	fs.BoolVar(&q.NoRport, "no-rport", false, "quirk: no ;rport in Via")
	fs.BoolVar(&q.NoQop, "no-qop", false, "quirk: answer digest challenges without qop")
	fs.StringVar(&q.ViaHost, "via-host", "", "quirk: host:port written in Via and Contact (a device behind NAT)")
	fs.StringVar(&o.media, "media", "none", "what calls send: none (answer INVITEs, send nothing) or ps (the test clips as PS over RTP)")
	mq := &o.mediaOpts.quirks
	fs.StringVar(&o.mediaOpts.clips, "clips", gbmedia.ClipSetH264G711A, "-media ps: clips to send: "+strings.Join(gbmedia.ClipSets(), ", "))
	fs.IntVar(&o.mediaOpts.bitrate, "bitrate", 0, "-media ps: pad video to about this many bit/s (0: the clip's own rate)")
	fs.BoolVar(&mq.NoPSM, "no-psm", false, "media quirk: no program stream map")
	fs.BoolVar(&mq.H265AsH264, "h265-as-h264", false, "media quirk: declare H.265 video as H.264 in the map")
	fs.BoolVar(&mq.MarkerFirst, "marker-first", false, "media quirk: RTP marker on a frame's first packet instead of its last")
	fs.BoolVar(&mq.HeaderExtension, "rtp-extension", false, "media quirk: an RTP header extension on every packet")
	fs.Float64Var(&mq.Reorder, "reorder", 0, "media quirk: probability of swapping neighbouring packets (UDP)")
	fs.Float64Var(&mq.Loss, "loss", 0, "media quirk: probability of dropping a packet (UDP)")
	fs.StringVar(&o.mediaIP, "media-ip", "", "address of the SDP answers (default: -local-ip)")
	fs.BoolVar(&q.OwnSSRC, "own-ssrc", false, "quirk: answer INVITEs with an SSRC of the device's own (Hikvision)")
	fs.BoolVar(&q.ZeroSSRC, "zero-ssrc", false, "quirk: answer INVITEs with y=0000000000 (some Dahua)")
	fs.Func("silent-channels", "quirk: never answer INVITEs for these channels (1-based), e.g. 2,3", func(s string) error {
		var err error
		o.silent, err = parseInts(s)
		return err
	})
	fs.IntVar(&q.InviteStatus, "invite-status", 0, "quirk: answer INVITEs with this status instead of 200 (e.g. 486)")
	fs.DurationVar(&q.InviteDelay, "invite-delay", 0, "quirk: wait this long before answering an INVITE")
	fs.BoolVar(&q.IgnoreCancel, "ignore-cancel", false, "quirk: answer CANCEL 481 and the INVITE anyway")
	fs.IntVar(&q.DropACKs, "drop-acks", 0, "quirk: ignore the first N ACKs of each call (the 200 is retransmitted)")
	fs.BoolVar(&q.MediaStatusOutOfDialog, "media-status-out-of-dialog", false,
		"quirk: send the end-of-playback MediaStatus with a Call-ID of its own")
	fs.BoolVar(&q.NoByeAtEnd, "no-bye-at-end", false, "quirk: no BYE after the end-of-playback MediaStatus")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if q.InviteStatus != 0 && (q.InviteStatus < 300 || q.InviteStatus > 699) {
		return nil, fmt.Errorf("-invite-status %d: want 300 to 699", q.InviteStatus)
	}
	if _, err := newMedia(o); err != nil {
		return nil, err
	}
	if o.mediaIP == "" {
		o.mediaIP = o.localIP
	}
	switch o.charset {
	case "gb2312", "GB2312":
	case "utf8", "utf-8", "UTF-8":
		q.UTF8 = true
	default:
		return nil, fmt.Errorf("-charset %q: want gb2312 or utf8", o.charset)
	}
	if err := sip.CheckDeviceID(o.id); err != nil {
		return nil, fmt.Errorf("-id %q: %w", o.id, err)
	}
	if o.count < 1 {
		return nil, errors.New("-count must be at least 1")
	}
	if o.transport != "udp" && o.transport != "tcp" {
		return nil, fmt.Errorf("-transport %q: want udp or tcp", o.transport)
	}
	return o, nil
}

// deviceID returns the ID of device i (0-based): the first ID with i added
// to its serial.
func deviceID(first string, i int) string {
	serial, _ := strconv.Atoi(first[14:])
	return first[:14] + fmt.Sprintf("%06d", (serial+i)%1000000)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "gbsim:", err)
		return 2
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	devices := make([]*gbsim.Device, 0, o.count)
	defer func() {
		closeAll(devices, o.unregister)
	}()
	var tick <-chan time.Time
	if o.rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(o.rate))
		defer t.Stop()
		tick = t.C
	}
	var rep *regReport
	var repDone <-chan struct{}
	if o.report {
		rep = newRegReport(o.count)
		defer rep.close()
		repDone = rep.done
	}
	media, err := newMedia(o)
	if err != nil {
		fmt.Fprintln(stderr, "gbsim:", err)
		return 2
	}
	start := time.Now()
	for i := range o.count {
		if tick != nil && i > 0 {
			select {
			case <-tick:
			case <-ctx.Done():
				return 0
			}
		}
		if ctx.Err() != nil {
			return 0
		}
		d, err := gbsim.New(gbsim.Config{
			DeviceID: deviceID(o.id, i), Password: o.password, Server: o.server,
			PlatformID: o.platformID, Domain: o.domain, Transport: o.transport,
			LocalAddr: o.localIP + ":0", Expires: o.expires, Keepalive: o.keepalive,
			Channels: o.channels, PerMessage: o.perMessage, Tree: o.tree, Quirks: o.quirks, Logger: logger,
			Media: media, MediaIP: o.mediaIP,
		})
		if err != nil {
			fmt.Fprintln(stderr, "gbsim:", err)
			return 1
		}
		if len(o.silent) > 0 {
			q := d.Quirks()
			for _, n := range o.silent {
				q.SilentChannels = append(q.SilentChannels, d.ChannelID(n))
			}
			d.SetQuirks(q)
		}
		devices = append(devices, d)
		if rep != nil {
			rep.add(d)
		}
		d.Start()
	}
	fmt.Fprintf(stdout, "gbsim: %d devices started in %s (%s, %s … %s, %d channels each)\n",
		len(devices), time.Since(start).Round(time.Millisecond), o.transport,
		devices[0].ID(), devices[len(devices)-1].ID(), o.channels)

	var every <-chan time.Time
	if o.statsEvery > 0 {
		t := time.NewTicker(o.statsEvery)
		defer t.Stop()
		every = t.C
	}
	for {
		select {
		case <-ctx.Done():
			if repDone != nil { // not all registered: say how far it got
				rep.close()
				fmt.Fprintln(stdout, "gbsim:", rep)
			}
			fmt.Fprintln(stdout, "gbsim:", status(devices))
			return 0
		case <-repDone:
			repDone = nil
			fmt.Fprintln(stdout, "gbsim:", rep)
		case <-every:
			fmt.Fprintln(stdout, "gbsim:", status(devices))
		}
	}
}

// status sums the devices' counters.
func status(devices []*gbsim.Device) string {
	var registered, regFail, keepalives, kaFail uint64
	var controls, calls, active int
	for _, d := range devices {
		for _, c := range d.Calls() {
			calls++
			if c.Confirmed && !c.Ended {
				active++
			}
		}
		st := d.Stats()
		if st.Registrations > 0 {
			registered++
		}
		regFail += st.RegisterFailures
		keepalives += st.Keepalives
		kaFail += st.KeepaliveFailures
		controls += len(d.Controls())
	}
	return fmt.Sprintf("%d/%d registered, %d register failures, %d keepalives (%d failed), %d controls received, %d calls (%d active)",
		registered, len(devices), regFail, keepalives, kaFail, controls, calls, active)
}

// closeAll stops the devices, unregistering them first when asked.
func closeAll(devices []*gbsim.Device, unregister bool) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, d := range devices {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if unregister && d.Stats().Registrations > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _ = d.Unregister(ctx)
				cancel()
			}
			_ = d.Close()
		}()
	}
	wg.Wait()
}
