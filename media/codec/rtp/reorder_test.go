package rtp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"
)

// reorderLog records what a Reorder releases: sequence numbers, and -n for
// a loss of n packets (L0 for a restart).
type reorderLog struct {
	r      *Reorder
	events []string
	now    time.Time
}

func newReorderLog(size int, delay time.Duration) *reorderLog {
	l := &reorderLog{now: time.Unix(1000, 0)}
	l.r = &Reorder{
		Size:     size,
		MaxDelay: delay,
		OnPacket: func(p *Packet) {
			// The payload carries the sequence number: a mix-up of slot
			// buffers shows as a mismatch.
			if got := binary.BigEndian.Uint16(p.Payload); got != p.SequenceNumber {
				l.events = append(l.events, fmt.Sprintf("BAD%d/%d", p.SequenceNumber, got))
				return
			}
			l.events = append(l.events, fmt.Sprint(p.SequenceNumber))
		},
		OnLoss: func(n int) { l.events = append(l.events, fmt.Sprintf("L%d", n)) },
	}
	l.r.Initialize()
	return l
}

func (l *reorderLog) push(seqs ...uint16) {
	for _, s := range seqs {
		payload := binary.BigEndian.AppendUint16(nil, s)
		payload = append(payload, 0xde, 0xad)
		p := Packet{SequenceNumber: s, PayloadType: 96, Payload: payload}
		l.r.Push(&p, l.now)
		// The caller's buffer is reused at once.
		clear(payload)
	}
}

func (l *reorderLog) wait(d time.Duration) {
	l.now = l.now.Add(d)
	l.r.Poll(l.now)
}

func (l *reorderLog) take() []string {
	e := l.events
	l.events = nil
	return e
}

func seqs(s ...any) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprint(v)
	}
	return out
}

func TestReorder(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name  string
		run   func(l *reorderLog)
		want  []string
		stats ReorderStats
	}{
		{
			name:  "in order",
			run:   func(l *reorderLog) { l.push(1, 2, 3) },
			want:  seqs(1, 2, 3),
			stats: ReorderStats{Packets: 3},
		},
		{
			name:  "wrap",
			run:   func(l *reorderLog) { l.push(65534, 65535, 0, 1) },
			want:  seqs(65534, 65535, 0, 1),
			stats: ReorderStats{Packets: 4},
		},
		{
			name:  "swap",
			run:   func(l *reorderLog) { l.push(1, 3, 2, 4) },
			want:  seqs(1, 2, 3, 4),
			stats: ReorderStats{Packets: 4, Reordered: 1},
		},
		{
			name:  "swap across wrap",
			run:   func(l *reorderLog) { l.push(65534, 0, 65535, 1) },
			want:  seqs(65534, 65535, 0, 1),
			stats: ReorderStats{Packets: 4, Reordered: 1},
		},
		{
			name:  "loss after delay",
			run:   func(l *reorderLog) { l.push(1, 2, 5, 6); l.wait(50 * ms); l.push(7); l.wait(50 * ms); l.push(8) },
			want:  seqs(1, 2, "L2", 5, 6, 7, 8),
			stats: ReorderStats{Packets: 6, Lost: 2},
		},
		{
			name:  "duplicate",
			run:   func(l *reorderLog) { l.push(1, 2, 2, 4, 4, 3, 1) },
			want:  seqs(1, 2, 3, 4),
			stats: ReorderStats{Packets: 7, Duplicates: 3, Reordered: 1},
		},
		{
			name:  "late after loss",
			run:   func(l *reorderLog) { l.push(1, 3); l.wait(100 * ms); l.push(2, 4) },
			want:  seqs(1, "L1", 3, 4),
			stats: ReorderStats{Packets: 4, Lost: 1, Late: 1},
		},
		{
			name: "window full",
			run: func(l *reorderLog) {
				l.push(1)
				for s := uint16(3); s < 3+8; s++ {
					l.push(s)
				}
			},
			// 8 slots: when 10 arrives, 2 is given up.
			want:  seqs(1, "L1", 3, 4, 5, 6, 7, 8, 9, 10),
			stats: ReorderStats{Packets: 9, Lost: 1},
		},
		{
			name:  "big loss",
			run:   func(l *reorderLog) { l.push(1, 2, 1002, 1003) },
			want:  seqs(1, 2, "L999", 1002, 1003),
			stats: ReorderStats{Packets: 4, Lost: 999},
		},
		{
			name:  "big loss with held packets",
			run:   func(l *reorderLog) { l.push(1, 3, 5, 500) },
			want:  seqs(1, "L1", 3, "L1", 5, "L494", 500),
			stats: ReorderStats{Packets: 4, Lost: 496},
		},
		{
			name:  "restart",
			run:   func(l *reorderLog) { l.push(30000, 30001, 5, 6, 7) },
			want:  seqs(30000, 30001, "L0", 6, 7),
			stats: ReorderStats{Packets: 5, Late: 1, Resets: 1},
		},
		{
			name:  "stray",
			run:   func(l *reorderLog) { l.push(100, 101, 40000, 102, 103) },
			want:  seqs(100, 101, 102, 103),
			stats: ReorderStats{Packets: 5, Late: 1},
		},
		{
			name:  "restart flushes held",
			run:   func(l *reorderLog) { l.push(100, 102, 40000, 40001) },
			want:  seqs(100, "L1", 102, "L0", 40001),
			stats: ReorderStats{Packets: 4, Lost: 1, Late: 1, Resets: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newReorderLog(8, 100*time.Millisecond)
			c.run(l)
			if got := l.take(); !slices.Equal(got, c.want) {
				t.Errorf("released %v, want %v", got, c.want)
			}
			if got := l.r.Stats(); got != c.stats {
				t.Errorf("stats %+v, want %+v", got, c.stats)
			}
		})
	}
}

func TestReorderDeadline(t *testing.T) {
	l := newReorderLog(64, 100*time.Millisecond)
	if _, ok := l.r.Deadline(); ok {
		t.Fatal("deadline with nothing held")
	}
	l.push(1, 3)
	start := l.now
	l.wait(30 * time.Millisecond)
	l.push(5)
	if d, ok := l.r.Deadline(); !ok || !d.Equal(start.Add(100*time.Millisecond)) {
		t.Fatalf("deadline %v %v, want %v", d, ok, start.Add(100*time.Millisecond))
	}
	l.wait(69 * time.Millisecond)
	if got := l.take(); !slices.Equal(got, seqs(1)) {
		t.Fatalf("released %v early", got)
	}
	l.wait(time.Millisecond)
	// 3 is released after 100 ms; 5 arrived 30 ms later and waits on.
	if got := l.take(); !slices.Equal(got, seqs("L1", 3)) {
		t.Fatalf("released %v", got)
	}
	if d, ok := l.r.Deadline(); !ok || !d.Equal(start.Add(130*time.Millisecond)) {
		t.Fatalf("deadline %v %v", d, ok)
	}
	l.wait(30 * time.Millisecond)
	if got := l.take(); !slices.Equal(got, seqs("L1", 5)) {
		t.Fatalf("released %v", got)
	}
	if l.r.Held() != 0 {
		t.Fatalf("%d held", l.r.Held())
	}
}

func TestReorderFlushAndReset(t *testing.T) {
	l := newReorderLog(64, time.Second)
	l.push(1, 4, 3, 7)
	l.r.Flush()
	if got := l.take(); !slices.Equal(got, seqs(1, "L1", 3, 4, "L2", 7)) {
		t.Fatalf("flush released %v", got)
	}
	l.push(8, 10)
	l.r.Reset()
	l.push(500, 501)
	if got := l.take(); !slices.Equal(got, seqs(8, "L1", 10, 500, 501)) {
		t.Fatalf("reset released %v", got)
	}
}

// TestReorderGapDetector: size 1 (TCP) releases everything at once and
// reports gaps.
func TestReorderGapDetector(t *testing.T) {
	l := newReorderLog(1, time.Second)
	l.push(1, 2, 4, 3, 5)
	if got := l.take(); !slices.Equal(got, seqs(1, 2, "L1", 4, 5)) {
		t.Fatalf("released %v", got)
	}
	if got := l.r.Stats(); got.Late != 1 || got.Lost != 1 {
		t.Fatalf("stats %+v", got)
	}
}

func TestReorderInOrderAllocs(t *testing.T) {
	r := &Reorder{}
	r.Initialize()
	p := Packet{Payload: psPayload}
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() {
		p.SequenceNumber++
		r.Push(&p, now)
	}); n != 0 {
		t.Fatalf("%v allocations per in-order packet", n)
	}
}

// TestReorderKeepsHeader: a packet that waited for its predecessor comes
// out with its own header fields, the marker bit among them: the ingest
// takes the marker on the last packet of a frame as the frame's end
// (codec/ps Demuxer.Marker), and a swap around that packet is common on
// UDP.
func TestReorderKeepsHeader(t *testing.T) {
	type out struct {
		seq    uint16
		ts     uint32
		marker bool
	}
	var got []out
	r := &Reorder{OnPacket: func(p *Packet) { got = append(got, out{p.SequenceNumber, p.Timestamp, p.Marker}) }}
	r.Initialize()
	now := time.Unix(1000, 0)
	push := func(seq uint16, ts uint32, marker bool) {
		p := Packet{SequenceNumber: seq, Timestamp: ts, Marker: marker, PayloadType: 96, Payload: []byte{1}}
		r.Push(&p, now)
	}
	// Frame 1 is packets 10-12 (marker on 12), frame 2 is 13-14: 12 comes
	// after 13, then 11 after 12.
	push(10, 3600, false)
	push(13, 7200, false)
	push(12, 3600, true)
	push(11, 3600, false)
	push(14, 7200, true)
	want := []out{{10, 3600, false}, {11, 3600, false}, {12, 3600, true}, {13, 7200, false}, {14, 7200, true}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
