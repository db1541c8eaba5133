package gbmedia

import (
	"context"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// sink is a UDP socket nobody reads: the kernel queues then drops what the
// benchmark sends, so the cost measured is the sender's alone.
func sink(tb testing.TB) string {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testHost)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.LocalAddr().String()
}

// benchSession starts a session that is never begun: its goroutine waits in
// waitBegin and leaves the timeline, muxer and packetizer to the benchmark.
func benchSession(b *testing.B, s *Sender, req Request) *Session {
	b.Helper()
	sess, err := s.Start(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sess.Close)
	return sess
}

// sendTick writes the frames of one video frame interval (the video frame
// and the audio frames due before the next) and flushes them, as the
// session goroutine does on one wake-up.
func sendTick(b *testing.B, sess *Session) {
	for {
		video, _ := sess.tl.next()
		sess.writeFrame(video)
		sess.tl.advance(video)
		if v, _ := sess.tl.next(); v {
			break
		}
	}
	if err := sess.flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSendUDP measures the sending cost per RTP packet of a 2 Mbit/s
// stream: PS muxing, packetizing and one sendto per packet on loopback.
func BenchmarkSendUDP(b *testing.B) {
	for _, name := range []string{ClipSetH264G711A, ClipSetH264HDG711A, ClipSetH265AAC} {
		b.Run(name, func(b *testing.B) {
			s := &Sender{BindIP: testHost, Clips: name, Bitrate: 2_000_000}
			sess := benchSession(b, s, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: sink(b), SSRC: 1})
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				sendTick(b, sess)
			}
			reportPerPacket(b, sess, cpu0)
		})
	}
}

// BenchmarkSendTCP is BenchmarkSendUDP over TCP: one write per batch.
func BenchmarkSendTCP(b *testing.B) {
	s := &Sender{BindIP: testHost, Bitrate: 2_000_000}
	sess := benchSession(b, s, Request{Mode: ModePlay, Transport: TransportTCPActive, SSRC: 1})
	c, err := net.Dial("tcp", net.JoinHostPort(testHost, strconv.Itoa(sess.LocalPort())))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	go func() {
		buf := make([]byte, 1<<16)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	// The session goroutine accepts and then waits for Begin.
	deadline := time.Now().Add(3 * time.Second)
	for {
		sess.mu.Lock()
		conn := sess.conn
		sess.mu.Unlock()
		if conn != nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("not accepted")
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		sendTick(b, sess)
	}
	reportPerPacket(b, sess, cpu0)
}

// BenchmarkMuxPacketize is the CPU work without the socket.
func BenchmarkMuxPacketize(b *testing.B) {
	s := &Sender{BindIP: testHost, Bitrate: 2_000_000}
	sess := benchSession(b, s, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: sink(b), SSRC: 1})
	var pkts int
	b.ReportAllocs()
	for b.Loop() {
		for {
			video, _ := sess.tl.next()
			sess.writeFrame(video)
			sess.tl.advance(video)
			if v, _ := sess.tl.next(); v {
				break
			}
		}
		pkts += len(sess.pk.pkts)
		sess.pk.reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/packet")
}

// reportPerPacket reports the wall time and the CPU time (user + system, of
// the whole process: on a shared machine wall time also counts waiting for
// a core) per packet sent.
func reportPerPacket(b *testing.B, sess *Session, cpu0 time.Duration) {
	cpu := cpuTime(b) - cpu0
	st := sess.Stats()
	if st.Packets == 0 {
		b.Fatal("nothing sent")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(st.Packets), "ns/packet")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(st.Packets), "cpu-ns/packet")
	b.ReportMetric(float64(st.Packets)/float64(b.N), "packets/op")
}

// TestLoadCPU runs GBMEDIA_LOAD sessions (e.g. 200) at 2 Mbit/s for
// GBMEDIA_LOAD_SECONDS (default 10) to a UDP sink and reports the CPU time
// they take. Skipped unless GBMEDIA_LOAD is set: it is a measurement, not a
// check to run under -race in CI.
func TestLoadCPU(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GBMEDIA_LOAD"))
	if n <= 0 {
		t.Skip("set GBMEDIA_LOAD=<sessions> to measure")
	}
	secs, _ := strconv.Atoi(os.Getenv("GBMEDIA_LOAD_SECONDS"))
	if secs <= 0 {
		secs = 10
	}
	clips := os.Getenv("GBMEDIA_LOAD_CLIPS")
	if clips == "" {
		clips = ClipSetH264G711A
	}
	addr := sink(t)
	s := &Sender{BindIP: testHost, Clips: clips, Bitrate: 2_000_000}
	defer s.Close()
	sessions := make([]*Session, n)
	for i := range sessions {
		sessions[i] = startSession(t, s, Request{Transport: TransportUDP, RemoteAddr: addr, SSRC: uint32(i + 1)})
	}
	for _, sess := range sessions {
		sess.Begin()
	}
	time.Sleep(time.Second) // let the start-up settle

	cpu0, wall0 := cpuTime(t), time.Now()
	var b0, p0 uint64
	for _, sess := range sessions {
		st := sess.Stats()
		b0, p0 = b0+st.Bytes, p0+st.Packets
	}
	pos0 := sessions[0].Stats().Position
	time.Sleep(time.Duration(secs) * time.Second)
	cpu1, wall1 := cpuTime(t), time.Now()
	var b1, p1, errs uint64
	for _, sess := range sessions {
		st := sess.Stats()
		b1, p1, errs = b1+st.Bytes, p1+st.Packets, errs+st.Errors
	}
	pos1 := sessions[0].Stats().Position

	wall := wall1.Sub(wall0)
	cpu := cpu1 - cpu0
	t.Logf("%d sessions, %v: CPU %v = %.1f%% of one core, %.3f%% per stream; %.1f Mbit/s total, %.2f Mbit/s per stream, %.0f packets/s, %.2f µs CPU per packet; media advanced %.2fx wall; %d send errors",
		n, wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
		100*cpu.Seconds()/wall.Seconds(), 100*cpu.Seconds()/wall.Seconds()/float64(n),
		float64(b1-b0)*8/wall.Seconds()/1e6, float64(b1-b0)*8/wall.Seconds()/1e6/float64(n),
		float64(p1-p0)/wall.Seconds(), float64(cpu.Microseconds())/float64(p1-p0),
		float64(pos1-pos0)/float64(wall), errs)
}

func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
