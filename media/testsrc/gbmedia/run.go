package gbmedia

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"
	"time"
)

// Pacing and transport limits.
const (
	// batchWindow: frames due within this much of now leave in the same
	// wake-up and the same write, so a session wakes about once per frame
	// interval rather than once per frame of each track.
	batchWindow = 2 * time.Millisecond
	// maxLag is how far behind schedule the sender may fall (a loaded machine)
	// before it stops catching up and moves its clock instead. No frame is
	// skipped, so the timestamps stay continuous; the stream runs late, as a
	// device's would.
	maxLag = time.Second
	// maxBatch bounds the bytes held before a write during a catch-up or a
	// fast download.
	maxBatch = 256 << 10
	// writeTimeout ends a TCP session whose platform stopped reading.
	writeTimeout = 10 * time.Second
	// dialRetry is the pause between TCP passive connection attempts.
	dialRetry = 200 * time.Millisecond
	// errLogInterval limits how often repeated UDP send errors are logged.
	errLogInterval = 5 * time.Second
)

// run is the session goroutine: connect, wait for Begin, send.
func (s *Session) run() {
	defer close(s.done)
	if s.req.Transport == TransportTCPActive && !s.accept() {
		return
	}
	if !s.waitBegin() {
		return
	}
	if s.req.Transport == TransportTCPPassive && !s.dial() {
		return
	}
	s.stats.connected.Store(true)
	if err := s.stream(); err != nil {
		s.fail(err)
	}
}

// accept waits for the platform to connect to the TCP active listener. The
// platform may connect before the ACK, so this runs before Begin.
func (s *Session) accept() bool {
	timeout := s.sender.AcceptTimeout
	if timeout <= 0 {
		timeout = DefaultAcceptTimeout
	}
	if err := s.ln.SetDeadline(time.Now().Add(timeout)); err != nil {
		s.fail(err)
		return false
	}
	c, err := s.ln.Accept()
	// One connection per session (GB/T 28181-2016 C.2.3, a=connection:new).
	s.ln.Close()
	if err != nil {
		if s.ctx.Err() != nil {
			return false
		}
		if isTimeout(err) {
			err = fmt.Errorf("%w: no connection on port %d within %v", ErrTimeout, s.localPort, timeout)
		}
		s.fail(err)
		return false
	}
	s.log.Debug("platform connected", "remote", c.RemoteAddr().String())
	return s.setConn(c)
}

// dial connects to the platform for TCP passive, from LocalPort, retrying
// while the platform's listener is not up yet.
func (s *Session) dial() bool {
	timeout := s.sender.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	deadline := time.Now().Add(timeout)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: s.bindIP, Port: s.localPort}, Timeout: time.Second}
	retry := time.NewTimer(0)
	defer retry.Stop()
	<-retry.C
	for {
		c, err := d.DialContext(s.ctx, "tcp", s.req.RemoteAddr)
		if err == nil {
			s.log.Debug("connected to platform", "local", c.LocalAddr().String())
			return s.setConn(c)
		}
		if s.ctx.Err() != nil {
			return false
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			// Someone took the port announced in the SDP; the platform matches
			// the stream by SSRC anyway, so any port will do.
			d.LocalAddr = &net.TCPAddr{IP: s.bindIP}
		}
		if time.Now().After(deadline) {
			s.fail(fmt.Errorf("%w: connect to %s: %w", ErrTimeout, s.req.RemoteAddr, err))
			return false
		}
		retry.Reset(dialRetry)
		select {
		case <-s.ctx.Done():
			return false
		case <-retry.C:
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// waitBegin blocks until Begin or Close and reports whether Begin came.
func (s *Session) waitBegin() bool {
	for {
		s.mu.Lock()
		begun := s.ctl.begun
		s.mu.Unlock()
		if begun {
			return true
		}
		select {
		case <-s.ctx.Done():
			return false
		case <-s.wake:
		}
	}
}

// stream sends the frames in real time until End or Close. A frame at
// position p is due at anchorWall + (p-anchorPos)/rate; every control
// change moves the anchor to now and the next frame, so the new speed
// applies from there.
func (s *Session) stream() error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	var (
		c          control
		rate       float64
		anchorWall time.Time
		anchorPos  int64
	)
	apply := func() {
		c = s.takeControl()
		if c.seekPending {
			s.tl.seek(ticks(c.seek))
			s.log.Debug("seek", "position", c.seek)
		}
		rate = s.rate(c)
		_, anchorPos = s.tl.next()
		anchorWall = time.Now()
	}
	apply()

	for {
		select {
		case <-s.ctx.Done():
			return nil
		case <-s.wake:
			apply()
		default:
		}
		if c.paused {
			if err := s.flush(); err != nil {
				return err
			}
			select {
			case <-s.ctx.Done():
				return nil
			case <-s.wake:
				apply()
			}
			continue
		}

		video, pos := s.tl.next()
		atEnd := s.tl.end > 0 && pos >= s.tl.end
		if atEnd {
			pos = s.tl.end
		}
		now := time.Now()
		due := anchorWall.Add(ticksDuration(pos-anchorPos, rate))
		if wait := due.Sub(now); wait > batchWindow {
			if err := s.flush(); err != nil {
				return err
			}
			timer.Reset(wait)
			select {
			case <-s.ctx.Done():
				return nil
			case <-s.wake:
				apply()
				continue
			case <-timer.C:
			}
		} else if -wait > maxLag {
			anchorWall, anchorPos = now, pos
		}

		if atEnd {
			s.log.Debug("reached the end of the range")
			return s.flush()
		}
		s.writeFrame(video)
		s.tl.advance(video)
		if len(s.pk.buf) >= maxBatch {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
}

// writeFrame muxes the next frame of a track into PS and packetizes it.
func (s *Session) writeFrame(video bool) {
	var pos int64
	if video {
		i := s.tl.vNext
		f := &s.cs.video[i%int64(len(s.cs.video))]
		pos = s.tl.vPos(i)
		pts := PTSOffset + pos
		// No B-frames in the clips: DTS = PTS.
		s.psBuf = s.mux.WriteVideo(s.psBuf[:0], s.cs.videoCodec, pts, pts, f.key, f.annexB)
		s.stats.video.Add(1)
		if f.key {
			s.stats.keys.Add(1)
		}
	} else {
		j := s.tl.aNext
		pos = s.tl.aPos(j)
		s.psBuf = s.mux.WriteAudio(s.psBuf[:0], s.cs.audioCodec, PTSOffset+pos, s.cs.audio[j%int64(len(s.cs.audio))])
		s.stats.audio.Add(1)
	}
	s.pk.add(s.psBuf, PTSOffset+pos)
	s.stats.position.Store(pos)
}

// flush sends the packets of the batch, applying Reorder and Loss.
func (s *Session) flush() error {
	pk := &s.pk
	if len(pk.pkts) == 0 {
		return nil
	}
	defer pk.reset()
	q := &s.sender.Quirks

	reordered := false
	if q.Reorder > 0 {
		for i := 0; i+1 < len(pk.pkts); i++ {
			if pk.pkts[i].frame == pk.pkts[i+1].frame && s.rnd.Float64() < q.Reorder {
				pk.pkts[i], pk.pkts[i+1] = pk.pkts[i+1], pk.pkts[i]
				reordered = true
				i++ // a swapped pair is not swapped again
			}
		}
	}

	if s.udp != nil {
		var sent, bytes, dropped uint64
		for _, p := range pk.pkts {
			if q.Loss > 0 && s.rnd.Float64() < q.Loss {
				dropped++
				continue
			}
			b := pk.buf[p.start:p.end]
			if _, err := s.udp.WriteToUDPAddrPort(b, s.raddr); err != nil {
				if s.ctx.Err() != nil {
					return nil
				}
				// UDP errors are transient (a full socket buffer, an unreachable
				// host for a moment): count and go on, as a device does.
				s.stats.errors.Add(1)
				s.errs.log(s.log, err)
				continue
			}
			sent++
			bytes += uint64(len(b))
		}
		s.stats.packets.Add(sent)
		s.stats.bytes.Add(bytes)
		s.stats.dropped.Add(dropped)
		return nil
	}

	out := pk.buf
	if reordered {
		s.tcpBuf = s.tcpBuf[:0]
		for _, p := range pk.pkts {
			s.tcpBuf = append(s.tcpBuf, pk.buf[p.start:p.end]...)
		}
		out = s.tcpBuf
	}
	if err := s.conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return s.writeErr(err)
	}
	if _, err := s.conn.Write(out); err != nil {
		return s.writeErr(err)
	}
	s.stats.packets.Add(uint64(len(pk.pkts)))
	s.stats.bytes.Add(uint64(len(out) - pk.prefix*len(pk.pkts)))
	return nil
}

// writeErr turns a TCP write error into the session's end: nil when Close
// caused it.
func (s *Session) writeErr(err error) error {
	if s.ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("send: %w", err)
}

// errorLimiter logs repeated errors at most once per errLogInterval, with
// the count of those held back.
type errorLimiter struct {
	last       time.Time
	suppressed int
}

func (l *errorLimiter) log(logger *slog.Logger, err error) {
	if now := time.Now(); now.Sub(l.last) >= errLogInterval {
		logger.Warn("cannot send packet", "error", err, "suppressed", l.suppressed)
		l.last = now
		l.suppressed = 0
		return
	}
	l.suppressed++
}
