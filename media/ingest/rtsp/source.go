// Package rtsp pulls a camera's RTSP stream into a stream.Stream.
//
// A Source keeps one RTSP session (gortsplib client) at a time: it connects,
// picks the first H.264/H.265 video and the first AAC/G.711 audio media,
// decodes RTP into access units and publishes them through a new
// stream.Publisher. When the session fails it waits (exponential backoff with
// jitter) and connects again; the stream and its readers carry on.
//
// Video access units are normalized the way MediaMTX does it: access unit
// delimiters and in-band parameter sets are removed from the unit, and every
// random-access unit starts with the track's current parameter sets, so a
// keyframe is always decodable on its own.
package rtsp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"

	"github.com/nvr/nvr/media/ingest/internal/backoff"
	"github.com/nvr/nvr/media/ingest/internal/problem"
	"github.com/nvr/nvr/media/stream"
)

// Defaults for the zero values of Source's fields.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultReadTimeout    = 10 * time.Second
	DefaultBackoffMin     = 1 * time.Second
	DefaultBackoffMax     = 30 * time.Second
)

// stableSession is how long a session has to deliver media before the next
// failure counts as a fresh problem: the backoff restarts at BackoffMin. A
// camera that drops every few seconds keeps backing off instead.
const stableSession = 30 * time.Second

// udpReadBuffer is the socket receive buffer asked for each RTP and RTCP
// port: about 7 s of one 2.3 Mbit/s camera's packets, so that a busy
// machine that reads late does not lose RTP (docs/performance.md).
const udpReadBuffer = 2 << 20

// rmemMaxPath holds the most a socket may ask for as receive buffer.
const rmemMaxPath = "/proc/sys/net/core/rmem_max"

// Transport values accepted by Source.Transport.
const (
	TransportAuto = "auto" // UDP first, TCP when UDP is refused or silent
	TransportTCP  = "tcp"
	TransportUDP  = "udp"
)

// Source pulls one RTSP URL into a stream. It implements stream.Source.
// The fields are read by Run and must not change while it runs.
type Source struct {
	// URL is rtsp://user:pass@host:port/path. Credentials are sent with
	// basic or digest authentication, as the camera asks.
	URL string
	// Transport is "auto" (the default: UDP first, then TCP), "tcp" or "udp".
	Transport string
	// ConnectTimeout bounds one connection attempt, from the TCP dial to the
	// answer to PLAY.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for each RTSP response and for media: a
	// session that receives no RTP packet for this long is restarted.
	ReadTimeout time.Duration
	// BackoffMin and BackoffMax bound the delay between attempts. The delay
	// doubles after each failure and gets jitter; it restarts at BackoffMin
	// after a session that delivered media for a while.
	BackoffMin, BackoffMax time.Duration
	// Logger receives the source's logs, tagged component=rtsp. Nil discards.
	Logger *slog.Logger

	// listenPacket replaces net.ListenPacket for the UDP ports (tests bind
	// them to the loopback interface).
	listenPacket func(network, address string) (net.PacketConn, error)
}

// Run publishes the camera's media into st until ctx ends, reconnecting by
// itself, and reports each state change. It returns nil when ctx ends, and an
// error only for a configuration that can never work (a malformed URL, an
// unknown transport). report may be nil.
func (s *Source) Run(ctx context.Context, st *stream.Stream, report func(stream.State, error)) error {
	if report == nil {
		report = func(stream.State, error) {}
	}
	cfg, err := s.config()
	if err != nil {
		report(stream.StateError, err)
		return err
	}
	log := cfg.log
	log.Info("source started", "transport", s.transportName())
	if cfg.transport == nil || *cfg.transport != gortsplib.TransportTCP {
		if cfg.udpReadBuffer > 0 && cfg.udpReadBuffer < udpReadBuffer {
			log.Info("UDP receive buffer below the recommended size; raise net.core.rmem_max",
				"bytes", cfg.udpReadBuffer, "recommended", udpReadBuffer)
		}
	}
	defer log.Info("source stopped")

	bo := backoff.Backoff{Min: cfg.backoffMin, Max: cfg.backoffMax}
	for {
		report(stream.StateConnecting, nil)
		ses := &session{cfg: cfg, st: st, report: report, problems: &problem.Log{Logger: log}}
		online, err := ses.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			// A session only ends without an error when ctx ended.
			err = errors.New("session ended")
		}
		report(stream.StateError, err)
		if online >= stableSession {
			bo.Reset()
		}
		delay := bo.Next()
		log.Warn("session failed, retrying", "err", err, "online", online.Round(time.Millisecond),
			"media_problems", ses.problems.Count(), "retry_in", delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

// config is a Source with defaults applied and the URL parsed.
type config struct {
	url            *base.URL
	transport      *gortsplib.Transport
	connectTimeout time.Duration
	readTimeout    time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	log            *slog.Logger
	listenPacket   func(network, address string) (net.PacketConn, error)
	udpReadBuffer  int // gortsplib's UDPReadBufferSize; 0 is the OS default
}

// config validates s and fills in the defaults.
func (s *Source) config() (*config, error) {
	c := &config{
		connectTimeout: orDefault(s.ConnectTimeout, DefaultConnectTimeout),
		readTimeout:    orDefault(s.ReadTimeout, DefaultReadTimeout),
		backoffMin:     orDefault(s.BackoffMin, DefaultBackoffMin),
		backoffMax:     orDefault(s.BackoffMax, DefaultBackoffMax),
		listenPacket:   s.listenPacket,
		udpReadBuffer:  udpReadBufferSize(rmemMaxPath),
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.log = log.With("component", "rtsp", "url", Redact(s.URL))

	u, err := base.ParseURL(s.URL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", Redact(s.URL), err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid URL %q: no host", Redact(s.URL))
	}
	c.url = u

	switch s.Transport {
	case "", TransportAuto:
	case TransportTCP:
		v := gortsplib.TransportTCP
		c.transport = &v
	case TransportUDP:
		v := gortsplib.TransportUDP
		c.transport = &v
	default:
		return nil, fmt.Errorf("invalid transport %q: want %q, %q or %q", s.Transport, TransportAuto, TransportTCP, TransportUDP)
	}
	return c, nil
}

func (s *Source) transportName() string {
	if s.Transport == "" {
		return TransportAuto
	}
	return s.Transport
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// udpReadBufferSize returns the UDP receive buffer to ask gortsplib for:
// udpReadBuffer, capped at the kernel's limit read from rmemMax, because
// gortsplib fails the SETUP when the socket gets less than it asked for. It
// returns 0, the OS default, where the limit cannot be read (not Linux).
func udpReadBufferSize(rmemMax string) int {
	if runtime.GOOS != "linux" {
		return 0 // gortsplib can check the size only on Linux and Windows
	}
	b, err := os.ReadFile(rmemMax)
	if err != nil {
		return 0
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || limit <= 0 {
		return 0
	}
	return min(udpReadBuffer, limit)
}
