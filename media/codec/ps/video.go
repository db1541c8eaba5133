package ps

import (
	"bytes"
	"fmt"

	"github.com/nvr/nvr/media/unit"
)

// videoPESStart decides what a video PES does to the frame in progress of
// s: a PTS other than the frame's starts a new frame (the previous one is
// complete); the same PTS, or none, continues it unless the payload starts
// a new access unit, which deliver decides once its first bytes are in.
//
// After a loss (and at the start) a frame is only taken if its first PES
// begins an access unit: the PES after the gap may be the middle of one,
// with a PTS (devices that repeat it in every PES) or without.
func (d *Demuxer) videoPESStart(s *stream, hasPTS bool, pts, dts int64) {
	s.skip = false
	switch {
	case s.mark == markFlushed:
		// The frame went out at a marker: this PES must begin the next.
		d.afterMarker(s, hasPTS, pts, dts)
	case hasPTS && s.open && (!s.hasPTS || pts != s.pts):
		if s.deciding {
			d.decide(s)
		}
		if s.open && len(s.buf) > 0 {
			d.scan(s, len(s.buf), true)
			if !s.sawVCL && s.guess() != unit.CodecUnknown {
				// Parameter sets or SEI sent ahead of their picture with a
				// PTS of their own: they belong to the picture's frame.
				s.pts, s.dts, s.hasPTS = pts, dts, true
				s.pesOff = len(s.buf)
				break
			}
			d.frameEnds(s)
			d.finishVideo(s, len(s.buf))
		}
		s.newFrame(pts, dts, true)
	case s.open:
		// Continuing: only a frame that holds a slice can end here.
		s.pesOff = len(s.buf)
		s.deciding = s.sawVCL
	case hasPTS && s.resume && s.lostPTS && pts == s.pts:
		s.skip = true // the rest of the frame the loss cut
	case hasPTS:
		s.newFrame(pts, dts, true)
		s.deciding, s.tentative = s.resume, s.resume
	case s.ptsSeen:
		s.skip = true // the rest of a frame that was dropped
	default:
		// A stream without PTS: the frame keeps the previous timestamps.
		s.newFrame(s.pts, s.dts, false)
		s.deciding, s.tentative = true, true
	}
	if hasPTS {
		s.ptsSeen = true
	}
}

// newFrame opens an empty frame.
func (s *stream) newFrame(pts, dts int64, hasPTS bool) {
	s.buf = s.buf[:0]
	s.open = true
	s.pts, s.dts, s.hasPTS = pts, dts, hasPTS
	s.fcodec, s.scanPos, s.sawVCL, s.key = unit.CodecUnknown, 0, false, false
	s.pesOff, s.deciding, s.tentative = 0, false, false
	s.mark, s.confirm, s.fmarks, s.firstWrite, s.lastWrite = markNone, false, 0, 0, 0
}

// guess returns the codec a frame of s is taken to be when its own NAL
// units do not tell: the last detected, else the map's.
func (s *stream) guess() unit.Codec {
	if s.fcodec != unit.CodecUnknown {
		return s.fcodec
	}
	if s.codec != unit.CodecUnknown {
		return s.codec
	}
	return videoCodec(s.psmType)
}

// decide looks at the first bytes of the current PES payload: when they
// start an access unit after a slice, the frame before them is complete and
// is given out; a tentative frame is kept only if they start one.
func (d *Demuxer) decide(s *stream) {
	s.deciding = false
	peek := s.buf[s.pesOff:min(len(s.buf), s.pesOff+auPeek)]
	c := peekEvidence(peek) // the data first: the map may be wrong
	if c == unit.CodecUnknown {
		c = s.guess()
	}
	au := startsAccessUnit(c, peek)
	if s.confirm {
		s.confirm = false
		switch {
		case au:
		case !nonZero(s.buf[s.pesOff:]):
			// An empty PES (or zeros): the next one tells.
			s.buf, s.open, s.mark = s.buf[:0], false, markFlushed
		default:
			d.markerCut(s) // the rest of the frame given out at a marker
		}
		return
	}
	if s.tentative {
		s.tentative = false
		if au {
			s.resume, s.lostPTS = false, false
		} else {
			s.buf, s.open, s.skip = s.buf[:0], false, true
		}
		return
	}
	if !au {
		if s.mark == markSeen && nonZero(s.buf[s.pesOff:]) {
			d.ignoreMarkers(s) // the frame goes on after its marker
		}
		return
	}
	d.frameEnds(s)
	d.finishVideo(s, s.pesOff)
	n := copy(s.buf, s.buf[s.pesOff:])
	s.newFrame(s.pts, s.dts, s.hasPTS)
	s.buf = s.buf[:n]
	d.scan(s, n, false)
}

// peekEvidence returns the codec the NAL unit header after the start code
// at the start of b proves, if any.
func peekEvidence(b []byte) unit.Codec {
	h := 3
	if len(b) > 3 && b[2] == 0 {
		h = 4
	}
	if len(b) <= h {
		return unit.CodecUnknown
	}
	return nalEvidence(b[h], b[min(h+1, len(b)-1)], h+1 < len(b))
}

// scan reads the NAL unit headers of buf[scanPos:n] up to the first slice:
// the first header that proves a codec sets fcodec, the first slice tells a
// key frame. Headers cut by the end of what arrived are read on a later
// call, or at the end of the frame (end).
func (d *Demuxer) scan(s *stream, n int, end bool) {
	for !s.sawVCL {
		i := bytes.Index(s.buf[s.scanPos:n], startCodePrefix)
		if i < 0 {
			if !end {
				s.scanPos = max(s.scanPos, n-2) // 00 00 may begin a start code
			}
			return
		}
		h := s.scanPos + i + 3
		if !end && h+1 >= n {
			s.scanPos += i // wait for the two header bytes
			return
		}
		if h >= n {
			return
		}
		b0, b1, has1 := s.buf[h], byte(0), h+1 < n
		if has1 {
			b1 = s.buf[h+1]
		}
		if s.fcodec == unit.CodecUnknown {
			s.fcodec = nalEvidence(b0, b1, has1)
		}
		if vcl, key := nalKind(s.guess(), b0); vcl {
			s.sawVCL, s.key = true, key
		}
		s.scanPos = h
	}
}

// finishVideo gives buf[:n] out as the frame of s.
func (d *Demuxer) finishVideo(s *stream, n int) {
	if n == 0 {
		return
	}
	d.scan(s, n, true)
	c := s.guess()
	if c == unit.CodecUnknown {
		d.stats.Skipped++
		d.problem("codec", fmt.Errorf("%w: video stream %#x, stream type %#x", ErrUnknownCodec, s.id, s.psmType))
		return
	}
	s.codec = c
	s.frames++
	s.frameBytes += uint64(n)
	d.stats.Frames++
	if d.OnFrame != nil {
		lag := 0
		if s.lastWrite != 0 {
			lag = int(d.writes - s.lastWrite)
		}
		d.OnFrame(Frame{Codec: c, StreamID: s.id, PTS: s.pts, DTS: s.dts, Key: s.key, Data: s.buf[:n], Lag: lag})
	}
}
