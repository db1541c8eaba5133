package gbmedia

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/nvr/nvr/media/codec/ps"
	"github.com/nvr/nvr/media/unit"
)

// ErrTimeout is the Session.Err of a TCP session whose peer never connected
// (TCP active) or could not be reached (TCP passive) in time.
var ErrTimeout = errors.New("media connection timed out")

// Session is one media session: the stream of one INVITE. Its methods are
// safe for concurrent use. It implements sip/gbsim.MediaSession.
type Session struct {
	sender    *Sender
	req       Request
	cs        *clipSet
	log       *slog.Logger
	localPort int
	bindIP    net.IP

	// Sockets. udp and ln are set by Start; conn by the session goroutine.
	udp   *net.UDPConn
	raddr netip.AddrPort
	ln    *net.TCPListener

	ctx    context.Context // done when Close is called
	cancel context.CancelFunc
	done   chan struct{} // closed when the session goroutine ends
	wake   chan struct{} // a control call happened
	once   sync.Once

	// mu guards the control state and conn.
	mu   sync.Mutex
	ctl  control
	conn net.Conn
	err  error

	stats counters

	// Owned by the session goroutine.
	tl     timeline
	mux    ps.Muxer
	pk     packetizer
	psBuf  []byte
	tcpBuf []byte
	rnd    *rand.Rand
	errs   errorLimiter
}

// control is what Begin, Play, Pause and Seek ask for.
type control struct {
	begun       bool
	paused      bool
	scale       float64
	seek        time.Duration
	seekPending bool
	seeks       int
}

func newSession(s *Sender, req Request, cs *clipSet) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	sess := &Session{
		sender: s,
		req:    req,
		cs:     cs,
		log: s.logger().With("component", "gbmedia", "channel", req.ChannelID,
			"ssrc", req.SSRC, "mode", req.Mode, "transport", req.Transport),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		ctl:    control{scale: 1},
		rnd:    rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	q := s.Quirks
	sess.mux = ps.Muxer{
		NoPSM:              q.NoPSM,
		ZeroLengthVideoPES: q.ZeroLengthPES,
		PrivateStream:      q.PrivateStream,
		PackPerPES:         q.PackPerPES,
		// Declare the audio in the first map, as a device that knows its
		// encoder configuration does.
		AudioCodec: cs.audioCodec,
	}
	if q.H265AsH264 && cs.videoCodec == unit.CodecH265 {
		sess.mux.VideoStreamType = ps.StreamH264
	}
	sess.pk = packetizer{
		ssrc: req.SSRC,
		// A random start, as RFC 3550 section 5.1 asks, below 2^31 so tests
		// comparing raw timestamps do not see a wrap for hours.
		seq:         uint16(sess.rnd.Uint32()),
		ts0:         sess.rnd.Uint32() >> 1,
		payloadSize: s.payloadSize(),
		markerFirst: q.MarkerFirst,
		extension:   q.HeaderExtension,
	}
	if req.Transport != TransportUDP {
		sess.pk.prefix = 2
		if s.Interleaved {
			sess.pk.prefix = 4
		}
	}
	sess.tl = timeline{cs: cs}
	if req.Mode != ModePlay && req.End.After(req.Start) && !req.Start.IsZero() {
		sess.tl.end = ticks(req.End.Sub(req.Start))
	}
	return sess
}

// Request returns the request the session was started with.
func (s *Session) Request() Request { return s.req }

// LocalPort returns the local port to announce in the SDP answer: the UDP
// source port, the TCP listening port (TCP active) or the port TCP passive
// connects from.
func (s *Session) LocalPort() int { return s.localPort }

// Begin starts sending; call it when the ACK arrives.
func (s *Session) Begin() {
	s.update(func(c *control) { c.begun = true })
}

// Play resumes after Pause and sets the speed of Playback and Download to
// scale (MANSRTSP PLAY with Scale). scale <= 0 keeps the speed. Live ignores
// the scale.
func (s *Session) Play(scale float64) {
	s.update(func(c *control) {
		c.paused = false
		if scale > 0 {
			c.scale = scale
		}
	})
}

// Pause stops sending until Play (MANSRTSP PAUSE).
func (s *Session) Pause() {
	s.update(func(c *control) { c.paused = true })
}

// Seek jumps to Request.Start+pos (MANSRTSP PLAY with Range: npt=pos-): the
// next frame sent is the first keyframe at or after pos, and its PTS is
// PTSOffset + its position. It does not end a pause (call Play for that).
// Live ignores it.
func (s *Session) Seek(pos time.Duration) {
	if s.req.Mode == ModePlay {
		return
	}
	s.update(func(c *control) {
		c.seek = pos
		c.seekPending = true
		c.seeks++
	})
}

// Done is closed when the session ends: at End in Playback and Download
// (Err is nil: time for MediaStatus 121), on a transport failure (see Err)
// or on Close. Sockets stay open until Close, as a device keeps its TCP
// connection until the BYE.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended by itself before End, or nil.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops the session, closes its sockets and waits for its goroutine.
// It is safe to call more than once.
func (s *Session) Close() {
	s.once.Do(func() {
		s.cancel()
		s.closeSockets()
		<-s.done
		s.sender.remove(s)
		s.log.Debug("media session closed")
	})
}

func (s *Session) closeSockets() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
}

func (s *Session) update(f func(*control)) {
	s.mu.Lock()
	f(&s.ctl)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// takeControl returns the control state and clears a pending seek.
func (s *Session) takeControl() control {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ctl
	s.ctl.seekPending = false
	return c
}

func (s *Session) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.log.Warn("media session failed", "error", err)
}

// setConn stores the TCP connection so Close can interrupt a blocked write.
// It reports false, closing c, when the session is already closing.
func (s *Session) setConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		c.Close()
		return false
	}
	s.conn = c
	return true
}

func (s *Session) rate(c control) float64 {
	switch s.req.Mode {
	case ModePlayback:
		return c.scale
	case ModeDownload:
		return float64(max(s.req.DownloadSpeed, 1)) * c.scale
	}
	return 1
}
