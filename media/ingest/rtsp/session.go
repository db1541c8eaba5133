package rtsp

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/headers"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/ingest/internal/problem"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// userAgent is sent in every request; some cameras log it.
const userAgent = "nvr"

// udpSwitchGrace is how long gortsplib waits for the first UDP packet before
// it switches an "auto" session to TCP (its InitialUDPReadTimeout default).
// The media watchdog allows for it on top of ReadTimeout.
const udpSwitchGrace = 3 * time.Second

// session is one RTSP connection: describe, setup, play, then media until
// something fails. It publishes through its own stream.Publisher: it is the
// au.Sink of its tracks.
type session struct {
	cfg    *config
	st     *stream.Stream
	report func(stream.State, error)

	problems  *problem.Log
	lastRTP   atomic.Int64 // UnixNano of the newest RTP packet of a chosen track
	transport atomic.Value // string: "udp" or "tcp", from the last SETUP

	// mu serializes the tracks' packet callbacks: with UDP every medium is
	// read by its own goroutine, and a Publisher is used by one at a time.
	mu        sync.Mutex
	pub       *stream.Publisher
	gotUnit   bool
	firstUnit chan struct{} // closed at the first unit written
	tracks    int           // tracks chosen
	decided   bool          // reorder was set up (or not) at the first unit
	reorder   *reorder      // with UDP and several tracks: restores DTS order
}

// run connects and publishes until the session fails or ctx ends. It returns
// how long the session delivered media and, unless ctx ended, why it ended.
func (s *session) run(ctx context.Context) (time.Duration, error) {
	cfg := s.cfg
	log := cfg.log
	s.pub = s.st.NewPublisher()
	s.firstUnit = make(chan struct{})
	s.transport.Store("")

	c := &gortsplib.Client{
		Scheme:      cfg.url.Scheme,
		Host:        cfg.url.Host,
		ReadTimeout: cfg.readTimeout,
		Transport:   cfg.transport,
		// The default (208 KiB here) is under a second of one 2 Mbit/s
		// camera's packets; a busy machine that reads late loses RTP.
		UDPReadBufferSize: cfg.udpReadBuffer,
		UserAgent:         userAgent,
		DialContext:       (&net.Dialer{Timeout: cfg.connectTimeout}).DialContext,
		OnRequest: func(req *base.Request) {
			if req.Method == base.Setup {
				s.transport.Store(setupTransport(req))
			}
		},
		// gortsplib logs these with the standard log package by default.
		OnTransportSwitch: func(err error) {
			log.Info("switching transport", "reason", err.Error())
			s.lastRTP.Store(time.Now().Add(udpSwitchGrace).UnixNano())
		},
		OnPacketsLost: s.problems.AddLost,
		OnDecodeError: func(err error) { s.problems.Add("RTP/RTCP packet", err) },
	}
	if cfg.listenPacket != nil {
		c.ListenPacket = cfg.listenPacket
	}
	if err := c.Start2(); err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	// Closing the client is what interrupts a dial, a request or the media:
	// do it as soon as ctx ends, or when connecting takes too long.
	defer c.Close()
	stopOnCancel := context.AfterFunc(ctx, c.Close)
	defer stopOnCancel()
	connCtx, connCancel := context.WithTimeout(ctx, cfg.connectTimeout)
	defer connCancel()
	stopOnTimeout := context.AfterFunc(connCtx, c.Close)

	err := s.start(c)
	if !stopOnTimeout() && ctx.Err() == nil {
		// The timer fired: whatever the client said, the reason is the timeout.
		return 0, fmt.Errorf("connect: no answer from the camera within %v", cfg.connectTimeout)
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, err
	}
	log.Info("playing", "transport", s.transport.Load())
	defer s.flushReorder()

	grace := time.Duration(0)
	if cfg.transport == nil {
		grace = udpSwitchGrace
	}
	s.lastRTP.Store(time.Now().Add(grace).UnixNano())

	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	watchdog := time.NewTicker(watchdogPeriod(cfg.readTimeout))
	defer watchdog.Stop()

	firstUnit := s.firstUnit
	var onlineAt time.Time
	online := func() time.Duration {
		if onlineAt.IsZero() {
			return 0
		}
		return time.Since(onlineAt)
	}
	for {
		select {
		case <-ctx.Done():
			c.Close()
			<-waitErr
			return online(), nil

		case err := <-waitErr:
			if ctx.Err() != nil {
				return online(), nil
			}
			return online(), phaseError("read", err, cfg.url.User != nil)

		case <-firstUnit:
			firstUnit = nil
			onlineAt = time.Now()
			log.Info("online", "tracks", describeTracks(s.st.Tracks()))
			s.report(stream.StateOnline, nil)

		case now := <-watchdog.C:
			if silent := now.Sub(time.Unix(0, s.lastRTP.Load())); silent > cfg.readTimeout {
				c.Close()
				<-waitErr
				return online(), fmt.Errorf("read: %w for %v", ErrNoMedia, silent.Round(100*time.Millisecond))
			}
		}
	}
}

// watchdogPeriod is how often the media watchdog looks: often enough to
// notice silence soon after ReadTimeout, rarely enough to cost nothing.
func watchdogPeriod(readTimeout time.Duration) time.Duration {
	return min(max(readTimeout/4, 50*time.Millisecond), time.Second)
}

// start describes, sets up the chosen media and plays.
func (s *session) start(c *gortsplib.Client) error {
	hasUser := s.cfg.url.User != nil
	desc, _, err := c.Describe(s.cfg.url)
	if err != nil {
		return phaseError("describe", err, hasUser)
	}

	chosen, err := s.choose(desc)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	s.tracks = len(chosen)
	for i, ch := range chosen {
		tr, err := newTrack(i, ch.forma, s)
		if err != nil {
			return fmt.Errorf("describe: %s track: %w", ch.forma.Codec(), err)
		}
		if _, err := c.Setup(desc.BaseURL, ch.media, 0, 0); err != nil {
			return phaseError("setup", err, hasUser)
		}
		medi, forma := ch.media, ch.forma
		c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
			s.lastRTP.Store(time.Now().UnixNano())
			// Until the track's first packet whose PTS equals its DTS (an
			// IDR for H.264), gortsplib cannot place it on the timeline.
			pts, ok := c.PacketPTS2(medi, pkt)
			if !ok {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			tr.handle(pkt, pts)
		})
	}

	if _, err := c.Play(nil); err != nil {
		return phaseError("play", err, hasUser)
	}
	return nil
}

// choice is a medium and the format of it that a track is made from.
type choice struct {
	media *description.Media
	forma format.Format
}

// choose picks the first supported video format and the first supported
// audio format, video first (track 0), and logs what it leaves out.
func (s *session) choose(desc *description.Session) ([]choice, error) {
	var video, audio *choice
	var found []string
	for _, medi := range desc.Medias {
		var picked format.Format
		for _, forma := range medi.Formats {
			found = append(found, forma.Codec())
			switch {
			case medi.IsBackChannel || picked != nil:
			case video == nil && isVideo(forma):
				video, picked = &choice{medi, forma}, forma
			case audio == nil && isAudio(forma):
				audio, picked = &choice{medi, forma}, forma
			}
		}
		if picked == nil {
			s.cfg.log.Info("ignoring medium", "type", string(medi.Type), "codecs", codecs(medi.Formats))
		}
	}
	var out []choice
	if video != nil {
		out = append(out, *video)
	}
	if audio != nil {
		out = append(out, *audio)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: want H.264/H.265 video or AAC/G.711 audio, the camera offers %s",
			ErrNoTracks, orNone(strings.Join(found, ", ")))
	}
	return out, nil
}

// SetTrack implements au.Sink. Parameters equal to those the stream
// already has (a reconnection to the same camera) keep the stream's pointer,
// so that readers, which compare pointers, do not see a change that did not
// happen.
func (s *session) SetTrack(i int, p *unit.Params) {
	if cur := s.st.Tracks(); i < len(cur) && cur[i].Equal(p) {
		p = cur[i]
	}
	s.pub.SetTrack(i, p)
}

// WriteUnit implements au.Sink. Over UDP, gortsplib reads each medium on
// its own goroutine and the tracks' units arrive out of DTS order when the
// machine is busy; a reorder buffer puts them back in order before the
// stream.
// The transport is the one of the last SETUP when the first unit arrives:
// an "auto" session that switched to TCP has done so by then.
func (s *session) WriteUnit(u *unit.Unit) {
	if !s.decided {
		s.decided = true
		if s.tracks > 1 && s.transport.Load() == TransportUDP {
			s.reorder = newReorder(s.tracks, s.publish)
		}
	}
	if s.reorder != nil {
		s.reorder.push(u)
		return
	}
	s.publish(u)
}

// publish writes u to the stream.
func (s *session) publish(u *unit.Unit) {
	s.pub.Write(u)
	if !s.gotUnit {
		s.gotUnit = true
		close(s.firstUnit)
	}
}

// flushReorder publishes what the reorder buffer still holds when the
// session ends, after the client stopped calling back.
func (s *session) flushReorder() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reorder == nil {
		return
	}
	s.reorder.flush()
	s.cfg.log.Debug("reorder buffer", "late_units", s.reorder.late)
}

// Problem implements au.Sink.
func (s *session) Problem(what string, err error) {
	s.problems.Add(what, err)
}

// setupTransport tells from a SETUP request which transport it asks for.
func setupTransport(req *base.Request) string {
	var th headers.Transport
	if err := th.Unmarshal(req.Header["Transport"]); err != nil {
		return ""
	}
	if th.Protocol == headers.TransportProtocolTCP {
		return TransportTCP
	}
	return TransportUDP
}

func codecs(formats []format.Format) string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Codec()
	}
	return orNone(strings.Join(names, ", "))
}

func describeTracks(tracks []*unit.Params) string {
	names := make([]string, 0, len(tracks))
	for _, p := range tracks {
		if p != nil {
			names = append(names, p.String())
		}
	}
	return orNone(strings.Join(names, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
