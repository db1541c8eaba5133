package ps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nvr/nvr/media/ingest/internal/backoff"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// Defaults for the zero values of Source's fields.
const (
	DefaultKeyframeTimeout = 1 * time.Second
	DefaultBackoffMin      = 1 * time.Second
	DefaultBackoffMax      = 30 * time.Second
)

// callCloseTimeout bounds our BYE when a session ends.
const callCloseTimeout = 2 * time.Second

// keyframeRequestTimeout bounds the keyframe request (a MESSAGE).
const keyframeRequestTimeout = 2 * time.Second

// stableSession is how long a session has to deliver media before the next
// failure counts as a fresh problem: the backoff restarts at BackoffMin.
const stableSession = 30 * time.Second

// Inviter asks a device to send a stream. It is implemented over SIP
// elsewhere; this package knows nothing of SIP.
type Inviter interface {
	// SSRC returns the SSRC to offer (the y= line) for the next call.
	SSRC() uint32
	// Invite makes the call and returns once the device answered.
	Invite(ctx context.Context, o Offer) (Call, error)
}

// Offer is what we ask the device for.
type Offer struct {
	Transport Transport
	// IP is our media address as the device should reach it.
	IP string
	// Port is the local port of the Conn (for TCP active, only announced).
	Port int
	// SSRC is the SSRC we offer.
	SSRC uint32
}

// Answer is what the device answered.
type Answer struct {
	Transport Transport
	// Addr is the device's media ip:port, needed for TCP active.
	Addr string
	// SSRC is the SSRC of the answer's y= line, 0 when unknown.
	SSRC uint32
}

// Call is one INVITE dialog.
type Call interface {
	// Answer returns the device's answer.
	Answer() Answer
	// Done is closed when the device ends the call (its BYE, or
	// MediaStatus 121 at the end of a playback).
	Done() <-chan struct{}
	// Err tells why the call ended, after Done.
	Err() error
	// Close ends the call from our side (BYE).
	Close(ctx context.Context) error
}

var _ stream.Source = (*Source)(nil)

// Source feeds a stream from a GB28181 device: it opens the local end,
// invites the device, receives its PS over RTP and publishes it. It
// implements stream.Source. The fields are read by Run and must not change
// while it runs.
type Source struct {
	// Receiver provides the local ports.
	Receiver *Receiver
	// Inviter makes the calls.
	Inviter Inviter
	// Transport is how the device sends ("" is UDP).
	Transport Transport
	// MediaIP is our media address as the device should reach it.
	MediaIP string
	// CheckSSRC refuses packets whose SSRC is neither the offer's nor the
	// answer's (nor, with an answer of 0, the first one seen).
	CheckSSRC bool
	// NoMediaTimeout ends a session that received no RTP for this long
	// (default DefaultNoMediaTimeout).
	NoMediaTimeout time.Duration
	// KeyframeTimeout is how long after the answer a session waits for a
	// keyframe before it calls RequestKeyframe, once (default
	// DefaultKeyframeTimeout).
	KeyframeTimeout time.Duration
	// RequestKeyframe asks the device for a keyframe (GB28181 IFameCmd).
	// It may be nil.
	RequestKeyframe func(ctx context.Context) error
	// Retry makes a live source: after a failure or the device's end of
	// the call it invites again, with backoff. Without it (playback,
	// download) Run returns at the device's end of stream (nil) or at the
	// first failure (its error).
	Retry bool
	// BackoffMin and BackoffMax bound the delay between attempts
	// (defaults DefaultBackoffMin and DefaultBackoffMax).
	BackoffMin, BackoffMax time.Duration
	// Logger receives the source's logs, tagged component=ps. Nil discards.
	Logger *slog.Logger

	mu   sync.Mutex
	conn *Conn // of the current or last session
}

// Stats returns the counters of the current (or last) session's Conn; the
// zero Stats before the first.
func (s *Source) Stats() Stats {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		return Stats{Transport: s.Transport}
	}
	return c.Stats()
}

// Run publishes the device's media into st until ctx ends (nil), the
// device ends the stream of a source without Retry (nil), or a session of a
// source without Retry fails (its error). A source with Retry invites again
// after each failure, reporting each state change. report may be nil.
func (s *Source) Run(ctx context.Context, st *stream.Stream, report func(stream.State, error)) error {
	if report == nil {
		report = func(stream.State, error) {}
	}
	if err := s.check(); err != nil {
		report(stream.StateError, err)
		return err
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "ps", "stream", st.Name())
	bo := backoff.Backoff{Min: orDefault(s.BackoffMin, DefaultBackoffMin), Max: orDefault(s.BackoffMax, DefaultBackoffMax)}
	for {
		report(stream.StateConnecting, nil)
		online, err := s.session(ctx, st, report, log)
		if ctx.Err() != nil {
			return nil
		}
		if !s.Retry {
			if errors.Is(err, ErrCallEnded) {
				log.Info("the device ended the stream", "reason", err)
				return nil
			}
			return err
		}
		report(stream.StateError, err)
		if online >= stableSession {
			bo.Reset()
		}
		delay := bo.Next()
		log.Warn("session ended, inviting again", "err", err, "online", online.Round(time.Millisecond),
			"retry_in", delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

func (s *Source) check() error {
	if s.Receiver == nil || s.Inviter == nil {
		return errors.New("ps source: Receiver and Inviter are required")
	}
	_, err := s.Transport.norm()
	return err
}

// session is one call: it returns how long media flowed and why it ended
// (nil when ctx ended).
func (s *Source) session(ctx context.Context, st *stream.Stream, report func(stream.State, error), log *slog.Logger) (time.Duration, error) {
	ssrc := s.Inviter.SSRC()
	conn, err := s.Receiver.Open(s.Transport, ssrc)
	if err != nil {
		return 0, fmt.Errorf("open media port: %w", err)
	}
	defer conn.Close()
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()

	offer := Offer{Transport: conn.Transport(), IP: s.MediaIP, Port: conn.LocalPort(), SSRC: ssrc}
	call, err := s.Inviter.Invite(ctx, offer)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, fmt.Errorf("invite: %w", err)
	}
	defer func() {
		// Our BYE, also when the device ended the call: the dialog
		// implementation knows whether there is anything left to say.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callCloseTimeout)
		defer cancel()
		if err := call.Close(cctx); err != nil {
			log.Debug("closing the call", "err", err)
		}
	}()
	ans := call.Answer()
	if ans.Transport != "" && ans.Transport != offer.Transport {
		log.Warn("the device answered another transport; keeping ours", "offer", offer.Transport, "answer", ans.Transport)
	}
	conn.SetRemote(ans.Addr, ans.SSRC, s.CheckSSRC)
	log.Info("call answered", "transport", offer.Transport, "port", offer.Port, "offer_ssrc", ssrc,
		"answer_ssrc", ans.SSRC, "device_addr", ans.Addr)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		ended    = make(chan struct{}) // the device ended the call
		gotKey   atomic.Bool
		onlineAt time.Time
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		kt := time.NewTimer(orDefault(s.KeyframeTimeout, DefaultKeyframeTimeout))
		defer kt.Stop()
		for {
			select {
			case <-call.Done():
				close(ended)
				if s.Retry {
					cancel() // a live view does not wait for the tail
				}
				return
			case <-kt.C:
				if !gotKey.Load() && s.RequestKeyframe != nil {
					log.Info("no keyframe yet: asking the device for one")
					kctx, kcancel := context.WithTimeout(runCtx, keyframeRequestTimeout)
					if err := s.RequestKeyframe(kctx); err != nil {
						log.Warn("keyframe request failed", "err", err)
					}
					kcancel()
				}
			case <-runCtx.Done():
				return
			}
		}
	}()

	err = conn.Run(runCtx, st, RunConfig{
		NoMediaTimeout: s.NoMediaTimeout,
		Ended:          ended,
		OnUnit: func(u *unit.Unit) {
			if onlineAt.IsZero() {
				onlineAt = time.Now()
				report(stream.StateOnline, nil)
				log.Info("online")
			}
			if u.Key && u.IsVideo() {
				gotKey.Store(true)
			}
		},
	})
	cancel()
	wg.Wait()
	online := time.Duration(0)
	if !onlineAt.IsZero() {
		online = time.Since(onlineAt)
	}
	stats := conn.Stats()
	log.Info("session ended", "packets", stats.Packets, "lost", stats.Lost, "dropped", stats.Dropped, "frames", stats.Frames)
	select {
	case <-ended:
		if cerr := call.Err(); cerr != nil {
			return online, fmt.Errorf("%w: %w", ErrCallEnded, cerr)
		}
		return online, ErrCallEnded
	default:
	}
	if ctx.Err() != nil {
		return online, nil
	}
	if err == nil {
		err = errors.New("media ended")
	}
	return online, err
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
