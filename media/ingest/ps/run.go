package ps

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/nvr/nvr/media/codec/ps"
	"github.com/nvr/nvr/media/codec/rtp"
	"github.com/nvr/nvr/media/ingest/internal/problem"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// Defaults of RunConfig.
const (
	// DefaultNoMediaTimeout is how long Run waits for RTP before it gives
	// up with ErrNoMedia.
	DefaultNoMediaTimeout = 10 * time.Second
)

// drainIdle and drainMax bound how long Run keeps reading after Ended: until
// no packet came for drainIdle, at most drainMax. A device sends its BYE
// (or MediaStatus 121) right after the last packets, which may still be in
// the socket's buffer or on the way.
const (
	drainIdle = 300 * time.Millisecond
	drainMax  = 2 * time.Second
)

// checkPeriodMax bounds how long Run goes without looking at the clock
// while no packet comes: for the no-media timeout and the end of a drain.
const checkPeriodMax = 250 * time.Millisecond

// ssrcTakeover is how many consecutive packets of another SSRC replace the
// current one when SSRCs are not checked: a device that restarted its
// sender. A stale stream interleaved with the real one never gets there.
const ssrcTakeover = 8

// RunConfig configures Conn.Run.
type RunConfig struct {
	// NoMediaTimeout ends Run with ErrNoMedia when no RTP packet of the
	// stream arrived for this long (default DefaultNoMediaTimeout).
	NoMediaTimeout time.Duration
	// ReorderSize and ReorderDelay bound the UDP reorder buffer (defaults
	// rtp.DefaultReorderSize packets and rtp.DefaultReorderDelay).
	ReorderSize  int
	ReorderDelay time.Duration
	// Ended, when closed, says the device finished sending (the end of a
	// playback): Run reads what is still coming, then returns nil.
	Ended <-chan struct{}
	// OnUnit, when set, is called from Run after each unit is written to
	// the stream.
	OnUnit func(u *unit.Unit)
}

// Run receives the stream's RTP, puts it in order (UDP), takes the frames
// out of the program stream and publishes them on st through a new
// stream.Publisher: video as track 0 and audio as track 1, declared when
// their codec is known. It returns nil when ctx ends or after Ended, and
// otherwise the error that ended the stream: ErrNoMedia, ErrDisconnected,
// a failed connection for TCP active, or ErrClosed after Close. Run may be
// called once.
func (c *Conn) Run(ctx context.Context, st *stream.Stream, cfg RunConfig) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return fmt.Errorf("conn: %w", ErrClosed)
	case c.running:
		c.mu.Unlock()
		return errors.New("conn: Run called twice")
	}
	c.running = true
	c.mu.Unlock()

	if cfg.NoMediaTimeout <= 0 {
		cfg.NoMediaTimeout = DefaultNoMediaTimeout
	}
	addr, answer, check := c.answer()
	var src packetSource
	switch {
	case c.shared != nil:
		src = newSharedSource(c)
	case c.udp != nil:
		src = &udpSource{c: c.udp, buf: make([]byte, maxDatagram)}
	default:
		src = &tcpSource{c: c, ctx: ctx, active: c.transport == TransportTCPActive, addr: addr}
	}
	defer src.close()
	stopSrc := context.AfterFunc(ctx, src.stop)
	defer stopSrc()

	rs := newRunState(c, st, cfg, answer, check)
	defer rs.finish()
	err := rs.loop(src)
	if errors.Is(err, errStopped) {
		return nil
	}
	return err
}

// runState is what Run keeps while it runs; it belongs to Run's goroutine.
type runState struct {
	c        *Conn
	cfg      RunConfig
	udp      bool
	problems *problem.Log
	reorder  rtp.Reorder
	pkt      rtp.Packet
	tracks   *tracks
	ready    rtp.ReorderStats // the reorder stats last published
	markers  ps.MarkerState   // what the demuxer made of the markers, last logged
	now      time.Time        // when the packets the reorder buffer releases were taken

	// What is accepted.
	offer, answer uint32
	check         bool
	ssrc          uint32
	hasSSRC       bool
	cand          uint32 // an SSRC that may take over (no check)
	candRun       int
	from          netip.AddrPort // latched UDP source
	hasFrom       bool
}

func newRunState(c *Conn, st *stream.Stream, cfg RunConfig, answer uint32, check bool) *runState {
	rs := &runState{
		c:        c,
		cfg:      cfg,
		udp:      c.transport == TransportUDP,
		problems: &problem.Log{Logger: c.log},
		offer:    c.offerSSRC,
		answer:   answer,
		check:    check,
	}
	rs.tracks = newTracks(st, rs.problems, &c.cnt, cfg.OnUnit)
	rs.reorder = rtp.Reorder{
		Size:     cfg.ReorderSize,
		MaxDelay: cfg.ReorderDelay,
		OnPacket: rs.packet,
		OnLoss: func(n int) {
			rs.tracks.demux.Lost()
			if n > 0 {
				rs.problems.AddLost(uint64(n))
			}
		},
	}
	if !rs.udp {
		// TCP does not reorder; a gap is a device that dropped packets
		// before sending.
		rs.reorder.Size = 1
	}
	rs.reorder.Initialize()
	return rs
}

// packet feeds the payload of the next packet in sequence to the demuxer.
// The marker bit is a hint that the packet ends a frame: the demuxer checks
// it against the frames it delimits and, once the device's markers have
// proven right, hands the frame on at its last packet instead of when the
// next frame begins (one frame interval sooner). A marker on the first
// packet, on every packet, or none changes nothing (codec/ps marker.go).
// The reorder buffer releases packets in order, and a gap calls Lost first,
// so the packet that completes a frame is the last one before its marker.
//
// The units of a frame are stamped with the time its last packet was taken
// (rs.now when it was released): without markers the demuxer gives a frame
// out one packet later, and the first frames of a stream are given out so
// even with markers, while they are learnt; the stamps do not move with it.
func (rs *runState) packet(p *rtp.Packet) {
	d := &rs.tracks.demux
	rs.tracks.took(rs.now)
	d.Write(p.Payload)
	if p.Marker {
		d.Marker()
	}
	if m := d.MarkerState(); m != rs.markers {
		rs.markers = m
		switch m {
		case ps.MarkerTrusted:
			rs.c.log.Debug("the RTP marker bits end frames: frames are handed on at their last packet")
		case ps.MarkerIgnored:
			rs.c.log.Debug("the RTP marker bits do not end frames: ignored")
		}
	}
}

// loop reads packets until the stream ends.
func (rs *runState) loop(src packetSource) error {
	c, cfg := rs.c, rs.cfg
	period := min(max(cfg.NoMediaTimeout/4, 50*time.Millisecond), checkPeriodMax)
	start := time.Now()
	last := start // the last packet accepted
	nextCheck := start.Add(period)
	var drainStart time.Time // when Ended was seen
	for {
		deadline := nextCheck
		if d, ok := rs.reorder.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if d, ok := rs.tracks.deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		b, from, err := src.next(deadline)
		now := time.Now()
		switch {
		case err == nil:
			if rs.accept(b, from, now) {
				last = now
			}
		case errors.Is(err, errTimeout):
			rs.now = now
			rs.reorder.Poll(now)
			rs.publishReorderStats()
			rs.tracks.poll(now)
		default:
			return err
		}
		if !now.Before(nextCheck) {
			nextCheck = now.Add(period)
			if drainStart.IsZero() && cfg.Ended != nil {
				select {
				case <-cfg.Ended:
					drainStart = now
					nextCheck = now.Add(drainIdle / 4)
					c.log.Debug("the device ended the stream; reading what is left")
				default:
				}
			}
			if !drainStart.IsZero() {
				if now.Sub(last) >= drainIdle || now.Sub(drainStart) >= drainMax {
					return nil
				}
				nextCheck = now.Add(drainIdle / 4)
			}
			if silent := now.Sub(last); silent >= cfg.NoMediaTimeout {
				if c.cnt.packets.Load() == 0 {
					return fmt.Errorf("%w for %v since the stream was set up", ErrNoMedia, silent.Round(100*time.Millisecond))
				}
				return fmt.Errorf("%w for %v", ErrNoMedia, silent.Round(100*time.Millisecond))
			}
		}
	}
}

// accept checks a packet and feeds it on; it reports whether it was taken.
func (rs *runState) accept(b []byte, from netip.AddrPort, now time.Time) bool {
	cnt := &rs.c.cnt
	p := &rs.pkt
	if err := p.Unmarshal(b); err != nil {
		if !errors.Is(err, rtp.ErrRTCP) {
			cnt.dropped.Add(1)
			rs.problems.Add("RTP packet", err)
		}
		return false
	}
	if rs.udp {
		// NAT: the source cannot be known in advance, but once media
		// flows, packets from elsewhere are someone else's.
		if !rs.hasFrom {
			if !rs.ssrcAcceptable(p.SSRC) {
				cnt.dropped.Add(1)
				return false
			}
			rs.from, rs.hasFrom = from, true
			s := from.String()
			cnt.remote.Store(&s)
		} else if from != rs.from {
			cnt.dropped.Add(1)
			return false
		}
	}
	ok, changed := rs.takeSSRC(p.SSRC)
	if !ok {
		cnt.dropped.Add(1)
		return false
	}
	if changed {
		rs.c.log.Info("the device changed its SSRC", "new_ssrc", p.SSRC)
		rs.now = now
		rs.reorder.Reset()
		rs.tracks.demux.Lost()
	}
	cnt.packets.Add(1)
	cnt.bytes.Add(uint64(len(b)))
	cnt.lastPacket.Store(now.UnixNano())
	rs.now = now
	rs.reorder.Push(p, now)
	rs.publishReorderStats()
	return true
}

// ssrcAcceptable tells whether a first packet may come from ssrc.
func (rs *runState) ssrcAcceptable(ssrc uint32) bool {
	if rs.hasSSRC {
		return ssrc == rs.ssrc
	}
	return !rs.check || rs.answer == 0 || ssrc == rs.offer || ssrc == rs.answer
}

// takeSSRC applies the SSRC rules to a packet: with the check, the SSRC of
// the offer or of the answer, or the first one seen when the answer had
// none; without it, whichever is current, and another one after
// ssrcTakeover packets in a row. changed reports a switch.
func (rs *runState) takeSSRC(ssrc uint32) (ok, changed bool) {
	switch {
	case !rs.hasSSRC:
		if !rs.ssrcAcceptable(ssrc) {
			return false, false
		}
		rs.ssrc, rs.hasSSRC = ssrc, true
		rs.c.cnt.ssrc.Store(ssrc)
		return true, false
	case ssrc == rs.ssrc:
		rs.candRun = 0
		return true, false
	case rs.check:
		if ssrc != rs.offer && (rs.answer == 0 || ssrc != rs.answer) {
			return false, false
		}
	default:
		if ssrc != rs.cand {
			rs.cand, rs.candRun = ssrc, 0
		}
		if rs.candRun++; rs.candRun < ssrcTakeover {
			return false, false
		}
		rs.candRun = 0
	}
	rs.ssrc = ssrc
	rs.c.cnt.ssrc.Store(ssrc)
	return true, true
}

// publishReorderStats copies the reorder counters to the Conn's when they
// changed.
func (rs *runState) publishReorderStats() {
	s := rs.reorder.Stats()
	if s == rs.ready {
		return
	}
	rs.ready = s
	cnt := &rs.c.cnt
	cnt.lost.Store(s.Lost)
	cnt.reordered.Store(s.Reordered)
	cnt.duplicates.Store(s.Duplicates)
	cnt.late.Store(s.Late)
}

// finish hands on what is still held: the packets waiting in the reorder
// buffer and the last frame of the program stream.
func (rs *runState) finish() {
	rs.now = time.Now()
	rs.reorder.Flush()
	rs.publishReorderStats()
	rs.tracks.demux.Flush()
	rs.tracks.flush()
}
