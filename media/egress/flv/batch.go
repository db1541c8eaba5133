package flv

import (
	"net"
	"time"
)

// Retention limits of a viewer's batch between writes. A viewer's first
// batch is a whole GOP (up to 256 units); keeping its slices for each of a
// thousand viewers would pin memory for nothing, so bigger ones are dropped
// after use.
const (
	// maxKeptPieces holds a batch of a few frames with their audio.
	maxKeptPieces = 64
	// maxKeptOwn holds the file header, onMetaData and sequence headers
	// (a few hundred bytes; more with large parameter sets).
	maxKeptOwn = 4 << 10
)

// batch is the bytes of one write to a viewer, in order: pieces of the
// stream's shared tag bytes (codec/flv.UnitTags, never modified) and pieces
// of the viewer's own bytes (the file header, onMetaData, sequence headers,
// and the 11-byte header of a tag whose timestamp it raises). Referring to
// the shared tags instead of copying them keeps a viewer's memory small, and
// a TCP connection takes all the pieces in one writev.
type batch struct {
	pieces []piece
	own    []byte
	size   int       // bytes in all pieces
	video  bool      // holds a video tag
	since  time.Time // when Serve first held it back (zero: not held)
}

// piece is shared bytes, or own[off:end] when shared is nil. Own bytes are
// kept as offsets because own may move while it grows.
type piece struct {
	shared   []byte
	off, end int
}

func (b *batch) empty() bool { return b.size == 0 }

// addShared appends shared bytes, which must stay unmodified until the
// batch is written.
func (b *batch) addShared(p []byte) {
	if len(p) == 0 {
		return
	}
	b.pieces = append(b.pieces, piece{shared: p})
	b.size += len(p)
}

// addOwn appends b.own[start:] as a piece: the bytes the caller appended to
// b.own since len(b.own) was start.
func (b *batch) addOwn(start int) {
	end := len(b.own)
	if end == start {
		return
	}
	b.size += end - start
	if n := len(b.pieces); n > 0 && b.pieces[n-1].shared == nil && b.pieces[n-1].end == start {
		b.pieces[n-1].end = end
		return
	}
	b.pieces = append(b.pieces, piece{off: start, end: end})
}

// buffers appends the batch's pieces to iov, for one writev.
func (b *batch) buffers(iov net.Buffers) net.Buffers {
	for _, p := range b.pieces {
		if p.shared != nil {
			iov = append(iov, p.shared)
		} else {
			iov = append(iov, b.own[p.off:p.end])
		}
	}
	return iov
}

// appendTo appends the batch's bytes to dst, for a writer that takes one
// buffer.
func (b *batch) appendTo(dst []byte) []byte {
	for _, p := range b.pieces {
		if p.shared != nil {
			dst = append(dst, p.shared...)
		} else {
			dst = append(dst, b.own[p.off:p.end]...)
		}
	}
	return dst
}

// reset empties the batch, dropping its references to shared tags so that
// units that left the ring can be collected.
func (b *batch) reset() {
	clear(b.pieces)
	b.pieces = b.pieces[:0]
	if cap(b.pieces) > maxKeptPieces {
		b.pieces = nil
	}
	b.own = b.own[:0]
	if cap(b.own) > maxKeptOwn {
		b.own = nil
	}
	b.size, b.video, b.since = 0, false, time.Time{}
}
