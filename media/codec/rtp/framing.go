package rtp

import (
	"encoding/binary"
	"errors"
	"io"
)

// Framing limits.
const (
	// minFrame is the smallest frame taken as plausible: an RTCP receiver
	// report without report blocks (8 bytes). RTP needs 12.
	minFrame = 8
	// maxHeader is the longest framing header: "$", channel, 2-byte length.
	maxHeader = 4
	// frameBufSize holds the largest frame (a 16-bit length) with its
	// header and the next header, which resynchronisation looks at.
	frameBufSize = maxHeader + 0xffff + maxHeader + 1
	// maxEmptyReads is how many reads returning nothing and no error are
	// tolerated in a row, as bufio does, before giving up.
	maxEmptyReads = 100
)

// interleavedMagic starts an RTSP interleaved frame (RFC 2326 §10.12).
const interleavedMagic = '$'

// FrameReader reads RTP packets from a byte stream framed as in RFC 4571
// (a 2-byte big-endian length, then the packet), and tolerates RTSP
// interleaved framing ("$", a channel byte, a 2-byte length), which some
// devices use for GB28181 over TCP. A header is plausible when its packet
// starts with RTP version 2; it is believed when the packet comes from the
// SSRC seen last, or else when another plausible header follows it. When the
// bytes stop making sense (a device that wrote a partial packet, garbage) it
// skips forward to the next header it believes instead of failing.
//
// A FrameReader keeps its place across errors, so Next can be called again
// after a read deadline expired.
type FrameReader struct {
	r     io.Reader
	buf   []byte
	start int // first unread byte
	end   int // end of the buffered bytes

	resyncing   bool
	interleaved bool   // the last good frame used "$" framing
	lastSSRC    uint32 // SSRC of the last good RTP frame
	hasSSRC     bool

	skipped uint64
	resyncs uint64
}

// NewFrameReader returns a reader of the frames of r.
func NewFrameReader(r io.Reader) *FrameReader {
	return &FrameReader{r: r, buf: make([]byte, frameBufSize)}
}

// Skipped returns how many bytes were thrown away while resynchronising.
func (f *FrameReader) Skipped() uint64 { return f.skipped }

// Resyncs returns how many times the reader lost the framing.
func (f *FrameReader) Resyncs() uint64 { return f.resyncs }

// Next returns the next frame's packet (RTP, or RTCP on an interleaved odd
// channel). The bytes are valid until the next call. At the end of the
// stream it returns io.EOF, or io.ErrUnexpectedEOF inside a frame; any
// other error is the underlying reader's, and Next may be called again.
func (f *FrameReader) Next() ([]byte, error) {
	for {
		if err := f.fill(maxHeader + 1); err != nil {
			return nil, f.eof(err)
		}
		hdr, n, ok := f.header(f.buf[f.start:f.end])
		if !ok {
			f.lose()
			continue
		}
		// A header is believed at once when its packet comes from the SSRC
		// of the last good one, or when it is the very first: the framing
		// cannot be lost before anything was read.
		if err := f.fill(hdr + min(n, HeaderSize)); err != nil {
			return nil, f.eof(err)
		}
		pkt := f.buf[f.start+hdr : f.start+hdr+min(n, HeaderSize)]
		if f.sameSSRC(pkt) || !f.resyncing && !f.hasSSRC {
			if err := f.fill(hdr + n); err != nil {
				return nil, f.eof(err)
			}
			return f.take(hdr, n), nil
		}

		// Otherwise (resynchronising, an SSRC change, RTCP) it has to be
		// followed by another plausible header, of the same SSRC if both
		// are RTP.
		if err := f.fill(hdr + n + maxHeader + HeaderSize); err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, err
			}
			if f.end-f.start != hdr+n {
				f.lose()
				continue
			}
			// The stream ends exactly after the candidate: take it.
		} else if !f.followed(f.buf[f.start:f.end], hdr, n) {
			f.lose()
			continue
		}
		f.resyncing = false
		return f.take(hdr, n), nil
	}
}

// followed reports whether the frame at the start of b (header hdr, packet
// length n) is followed by a plausible header whose packet has the same SSRC
// when both are RTP.
func (f *FrameReader) followed(b []byte, hdr, n int) bool {
	next := b[hdr+n:]
	hdr2, n2, ok := f.header(next)
	if !ok {
		return false
	}
	ssrc, ok1 := PeekSSRC(b[hdr : hdr+n])
	ssrc2, ok2 := PeekSSRC(next[hdr2:min(len(next), hdr2+n2)])
	return !ok1 || !ok2 || ssrc == ssrc2
}

// lose drops one byte of garbage.
func (f *FrameReader) lose() {
	if !f.resyncing {
		f.resyncing = true
		f.resyncs++
	}
	f.start++
	f.skipped++
}

// take consumes a frame and returns its packet.
func (f *FrameReader) take(hdr, n int) []byte {
	f.interleaved = hdr == 4
	pkt := f.buf[f.start+hdr : f.start+hdr+n]
	f.start += hdr + n
	if ssrc, ok := PeekSSRC(pkt); ok {
		f.lastSSRC, f.hasSSRC = ssrc, true
	}
	return pkt
}

func (f *FrameReader) sameSSRC(pkt []byte) bool {
	ssrc, ok := PeekSSRC(pkt)
	return ok && f.hasSSRC && ssrc == f.lastSSRC
}

// header recognises a framing header at the start of b (which holds at
// least maxHeader+1 bytes, or fewer at the end of the stream). It returns
// the header size and the packet length.
func (f *FrameReader) header(b []byte) (hdr, n int, ok bool) {
	if len(b) < 3 {
		return 0, 0, false
	}
	// RFC 4571: length, then a packet whose first byte says version 2.
	n4571 := int(binary.BigEndian.Uint16(b))
	ok4571 := n4571 >= minFrame && b[2]>>6 == rtpVersion
	if b[0] != interleavedMagic || len(b) < maxHeader+1 {
		return 2, n4571, ok4571
	}
	// "$" is also the high byte of RFC 4571 lengths 9216-9471: when both
	// readings make sense, keep the framing of the last good frame.
	nInt := int(binary.BigEndian.Uint16(b[2:]))
	okInt := nInt >= minFrame && b[4]>>6 == rtpVersion
	switch {
	case okInt && (!ok4571 || f.interleaved):
		return 4, nInt, true
	case ok4571:
		return 2, n4571, true
	}
	return 0, 0, false
}

// fill makes at least n bytes available from start, or as many as the
// stream has left, in which case it returns the reader's error.
func (f *FrameReader) fill(n int) error {
	if f.end-f.start >= n {
		return nil
	}
	if len(f.buf)-f.start < n {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	for empty := 0; f.end-f.start < n; {
		m, err := f.r.Read(f.buf[f.end:])
		f.end += m
		if err != nil {
			if f.end-f.start >= n {
				return nil
			}
			return err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= maxEmptyReads {
			return io.ErrNoProgress
		}
	}
	return nil
}

// eof turns the end of the stream inside a frame into io.ErrUnexpectedEOF.
func (f *FrameReader) eof(err error) error {
	if errors.Is(err, io.EOF) && f.end > f.start {
		return io.ErrUnexpectedEOF
	}
	return err
}
