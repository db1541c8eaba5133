package ps

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
)

// benchPackets are the RTP packets of the 720p clip (about 2 Mbit/s) with
// AAC, as a device sends them.
func benchPackets(b *testing.B) [][]byte {
	cfg := senderConfig{video: testsrc.ClipH264HD, audio: testsrc.ClipAAC, ssrc: 1, extension: true}
	return flat(packetize(cfg, buildEvents(b, cfg)))
}

// reportPerPacket reports per packet: wall time, the process's CPU time
// (the honest figure on a shared machine; it includes the GC and, for the
// UDP benchmark, the sender) and allocations.
func reportPerPacket(b *testing.B, packets int, mallocs uint64, cpu time.Duration) {
	n := float64(b.N) * float64(packets)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/packet")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/packet")
	b.ReportMetric(float64(mallocs)/n, "allocs/packet")
	b.ReportMetric(0, "ns/op")
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// BenchmarkIngest measures the in-memory path of a packet: RTP parse,
// SSRC and source checks, reorder, PS demux, unit making and publishing.
// One op is the whole clip.
func BenchmarkIngest(b *testing.B) {
	pkts := benchPackets(b)
	var size int64
	for _, p := range pkts {
		size += int64(len(p))
	}
	st := stream.New("bench", 0, nil)
	c := newConn(nil, TransportUDP, 1)
	c.log = slog.New(slog.DiscardHandler)
	rs := newRunState(c, st, RunConfig{}, 1, true)
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	seq := uint16(0)
	b.SetBytes(size)
	b.ReportAllocs()
	m0, cpu0 := mallocs(), cpuTime()
	for b.Loop() {
		now := time.Now()
		for _, p := range pkts {
			binary.BigEndian.PutUint16(p[2:], seq)
			seq++
			rs.accept(p, from, now)
		}
	}
	reportPerPacket(b, len(pkts), mallocs()-m0, cpuTime()-cpu0)
	if c.cnt.frames.Load() == 0 || c.cnt.dropped.Load() != 0 {
		b.Fatalf("frames %d, dropped %d", c.cnt.frames.Load(), c.cnt.dropped.Load())
	}
}

// BenchmarkIngestUDP sends the clip over UDP loopback to a running Conn and
// waits until it has taken every packet: the syscalls of both ends
// included, on the same cores.
func BenchmarkIngestUDP(b *testing.B) {
	pkts := benchPackets(b)
	r := &Receiver{ListenIP: "127.0.0.1", PortLo: 20000, PortHi: 40000}
	if err := r.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	c, err := r.Open(TransportUDP, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.SetRemote("", 1, true)
	st := stream.New("bench", 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, st, RunConfig{}) }()
	defer func() { cancel(); <-done }()
	send := udpSender(&testing.T{}, c.LocalPort())
	seq := uint16(0)
	sent := uint64(0)
	m0, cpu0 := mallocs(), cpuTime()
	for b.Loop() {
		// The clip (about 600 KB) fits the 4 MiB socket buffer.
		for _, p := range pkts {
			binary.BigEndian.PutUint16(p[2:], seq)
			seq++
			if err := send(p); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		waitPackets(b, c, sent)
	}
	reportPerPacket(b, len(pkts), mallocs()-m0, cpuTime()-cpu0)
}

// waitPackets waits until c took n packets.
func waitPackets(b *testing.B, c *Conn, n uint64) {
	deadline := time.Now().Add(5 * time.Second)
	for c.cnt.packets.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d packets arrived", c.cnt.packets.Load(), n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}
