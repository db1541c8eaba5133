// Package unit defines the access unit, the one thing that moves between
// ingest, the stream ring and every output. It imports nothing of ours.
package unit

import (
	"sync/atomic"
	"time"
)

// Unit is one access unit of one track: a whole video picture or one audio
// frame. A Unit is immutable once written to a stream; readers share it.
type Unit struct {
	// Track is the index of the track inside its stream.
	Track int
	// Params are the codec parameters in force for this unit. The pointer is
	// shared by all units until the parameters change, so a reader notices a
	// change by comparing pointers.
	Params *Params
	// DTS and PTS are stream time: zero is the stream's first unit, and they
	// keep rising across publisher restarts.
	DTS, PTS time.Duration
	// Time is the wall-clock time the unit was captured (or received).
	Time time.Time
	// Key is true for a video picture a decoder can start at (IDR / IRAP).
	// Audio units are always Key.
	Key bool
	// Data holds the payload. Video: the NAL units of the picture, without
	// start codes or length prefixes. AAC: one raw access unit. G.711: the
	// samples, one byte each.
	Data [][]byte

	memo [numMemoSlots]atomic.Pointer[[]byte]
}

// MemoSlot names a per-unit cache of bytes derived from the unit by an output
// format. Work that is the same for every reader is done once per unit.
type MemoSlot int

// Memo slots, one per output format that shares derived bytes.
const (
	MemoFLV MemoSlot = iota
	numMemoSlots
)

// Memo returns the bytes cached in slot, building them with build on first
// use. Concurrent callers may build twice; both results are equal, one wins.
func (u *Unit) Memo(slot MemoSlot, build func() []byte) []byte {
	if p := u.memo[slot].Load(); p != nil {
		return *p
	}
	b := build()
	u.memo[slot].CompareAndSwap(nil, &b)
	return *u.memo[slot].Load()
}

// Size returns the payload size in bytes.
func (u *Unit) Size() int {
	n := 0
	for _, d := range u.Data {
		n += len(d)
	}
	return n
}

// IsVideo reports whether the unit belongs to a video track.
func (u *Unit) IsVideo() bool {
	return u.Params != nil && u.Params.Codec.IsVideo()
}
