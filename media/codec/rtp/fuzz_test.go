package rtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// FuzzPacket checks that Unmarshal never panics, that the payload lies in
// the input, and that a plain packet survives Marshal.
func FuzzPacket(f *testing.F) {
	for _, c := range packetCases {
		f.Add(c.raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.Unmarshal(b); err != nil {
			return
		}
		if len(p.Payload) > len(b)-HeaderSize {
			t.Fatalf("payload of %d bytes in a packet of %d", len(p.Payload), len(b))
		}
		if ssrc, ok := PeekSSRC(b); !ok || ssrc != p.SSRC {
			t.Fatalf("PeekSSRC = %d %v, Unmarshal %d", ssrc, ok, p.SSRC)
		}
		var q Packet
		if err := q.Unmarshal(p.Marshal(nil)); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		p.CSRCCount, p.Extension, p.ExtensionProfile, p.Padding = 0, false, 0, 0
		if !equalHeader(p, q) || !bytes.Equal(p.Payload, q.Payload) {
			t.Fatalf("round trip: %+v != %+v", p, q)
		}
	})
}

// FuzzReorder pushes a sequence of operations, two bytes each: a signed
// sequence step (0x80: a jump of 20000) and a time step in milliseconds
// (0xff: Flush, 0xfe: Reset). Released packets must follow each other
// exactly, gaps included, between restarts.
func FuzzReorder(f *testing.F) {
	f.Add([]byte{1, 0, 1, 0, 1, 0})                              // in order
	f.Add([]byte{1, 0, 2, 0, 0xff, 0, 1, 0})                     // swap
	f.Add([]byte{1, 0, 3, 5, 1, 200, 0xfd, 0})                   // loss, late
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 1})                        // duplicates
	f.Add([]byte{1, 0, 0x80, 0, 1, 0, 1, 0})                     // restart
	f.Add([]byte{1, 0, 70, 0, 1, 0xff, 1, 0xfe, 1, 0})           // window jump, flush, reset
	f.Add([]byte{0x7f, 0, 0x7f, 0, 0x81, 0, 0x81, 50, 0x81, 60}) // back and forth
	f.Fuzz(func(t *testing.T, ops []byte) {
		var (
			last     uint16
			haveLast bool
			pending  int // loss reported since the last release
			restart  bool
			lost     uint64
			now      = time.Unix(0, 0)
		)
		r := &Reorder{Size: 16, MaxDelay: 50 * time.Millisecond}
		r.OnPacket = func(p *Packet) {
			if got := binary.BigEndian.Uint16(p.Payload); got != p.SequenceNumber {
				t.Fatalf("packet %d carries the payload of %d", p.SequenceNumber, got)
			}
			if haveLast && !restart {
				if want := last + 1 + uint16(pending); p.SequenceNumber != want {
					t.Fatalf("released %d after %d with %d lost, want %d", p.SequenceNumber, last, pending, want)
				}
			}
			last, haveLast, pending, restart = p.SequenceNumber, true, 0, false
		}
		r.OnLoss = func(n int) {
			if n == 0 {
				restart = true
			}
			pending += n
			lost += uint64(n)
		}
		r.Initialize()
		seq := uint16(65500)
		payload := make([]byte, 2)
		for i := 0; i+1 < len(ops); i += 2 {
			switch ops[i+1] {
			case 0xff:
				r.Flush()
				if r.Held() != 0 {
					t.Fatal("held after Flush")
				}
				continue
			case 0xfe:
				r.Reset()
				restart = true
				continue
			}
			if ops[i] == 0x80 {
				seq += 20000
			} else {
				seq += uint16(int8(ops[i]))
			}
			now = now.Add(time.Duration(ops[i+1]) * time.Millisecond)
			binary.BigEndian.PutUint16(payload, seq)
			r.Push(&Packet{SequenceNumber: seq, Payload: payload}, now)
			if r.Held() > r.Size {
				t.Fatalf("%d held in %d slots", r.Held(), r.Size)
			}
			if d, ok := r.Deadline(); ok && !now.Before(d) {
				t.Fatalf("deadline %v passed at %v after Push", d, now)
			}
		}
		r.Flush()
		if st := r.Stats(); st.Lost != lost {
			t.Fatalf("stats lost %d, reported %d", st.Lost, lost)
		}
	})
}

// FuzzFraming reads an arbitrary byte stream: Next must end with an error
// after at most one call per byte, frames must be plausible, and frames
// plus skipped bytes cannot exceed the input.
func FuzzFraming(f *testing.F) {
	for _, c := range framingCases {
		f.Add(c.stream)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		for _, r := range []io.Reader{bytes.NewReader(stream), iotest.HalfReader(bytes.NewReader(stream))} {
			fr := NewFrameReader(r)
			used := 0
			for calls := 0; ; calls++ {
				if calls > len(stream) {
					t.Fatal("Next does not end")
				}
				pkt, err := fr.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("err %v", err)
					}
					break
				}
				if len(pkt) < minFrame || pkt[0]>>6 != rtpVersion {
					t.Fatalf("implausible frame %x", pkt)
				}
				used += 2 + len(pkt)
			}
			if used+int(fr.Skipped()) > len(stream) {
				t.Fatalf("%d bytes framed and %d skipped out of %d", used, fr.Skipped(), len(stream))
			}
		}
	})
}
