package rtp

import (
	"bytes"
	"io"
	"testing"
	"time"
)

func BenchmarkUnmarshal(b *testing.B) {
	raw := rtpPacket(1, 7, 1400)
	raw[0] |= 0x10 // with an extension, as many devices send
	raw = append(raw[:12], append([]byte{0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0}, raw[12:]...)...)
	var p Packet
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Unmarshal(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReorder measures packets in order (the common case) and with
// every tenth pair swapped.
func BenchmarkReorder(b *testing.B) {
	for _, swap := range []bool{false, true} {
		name := "in_order"
		if swap {
			name = "swapped"
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			r := &Reorder{OnPacket: func(*Packet) { n++ }}
			r.Initialize()
			payload := make([]byte, 1400)
			p := Packet{Payload: payload}
			now := time.Now()
			seq := uint16(0)
			b.ReportAllocs()
			for b.Loop() {
				s := seq
				if swap && seq%10 == 1 {
					s = seq + 1
				} else if swap && seq%10 == 2 {
					s = seq - 1
				}
				p.SequenceNumber = s
				r.Push(&p, now)
				seq++
			}
		})
	}
}

func BenchmarkFrameReader(b *testing.B) {
	var stream []byte
	for i := range 1000 {
		stream = append(stream, frame4571(rtpPacket(uint16(i), 7, 1400))...)
	}
	rd := bytes.NewReader(stream)
	f := NewFrameReader(rd)
	b.SetBytes(int64(len(stream) / 1000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Next(); err == io.EOF {
			rd.Reset(stream)
			if _, err := f.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
