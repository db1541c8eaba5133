package ps

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// runResult is the outcome of a Run in the background.
type runResult struct {
	done chan struct{} // closed when Run returned
	err  error
}

// wait returns Run's error, failing the test if it takes longer than d.
func (r *runResult) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v", d)
		return nil
	}
}

// runConn runs c on a new stream until the test ends and returns the
// stream and Run's result.
func runConn(t *testing.T, c *Conn, cfg RunConfig) (*stream.Stream, *runResult) {
	t.Helper()
	st := stream.New(t.Name(), 0, testLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	res := &runResult{done: make(chan struct{})}
	go func() {
		defer close(res.done)
		res.err = c.Run(ctx, st, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-res.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
		c.Close()
		st.Close()
	})
	return st, res
}

func open(t *testing.T, r *Receiver, tr Transport, ssrc uint32) *Conn {
	t.Helper()
	c, err := r.Open(tr, ssrc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConnUDP: H.264 + AAC over UDP with header extensions and the marker
// bit on the first packet of each frame.
func TestConnUDP(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	c := open(t, r, TransportUDP, 1234)
	c.SetRemote("127.0.0.1:5000", 1234, true)
	st, _ := runConn(t, c, RunConfig{})
	col := collect(t, st)
	cfg := senderConfig{video: testsrc.ClipH264, audio: testsrc.ClipAAC, ssrc: 1234, seq: 65000, extension: true, markerFirst: true}
	groups := packetize(cfg, buildEvents(t, cfg))
	if err := pace(context.Background(), groups, 500*time.Microsecond, udpSender(t, c.LocalPort())); err != nil {
		t.Fatal(err)
	}
	units := col.waitFor(t, 5*time.Second, "the whole clip", func(u []*unit.Unit) bool {
		n := count(u)
		return n.video >= 99 && n.audio >= 170
	})
	checkUnits(t, units, unit.CodecH264, unit.CodecAAC)
	tracks := st.Tracks()
	if v := tracks[videoTrack]; v.Width != 320 || v.Height != 240 || !v.Ready() {
		t.Errorf("video params %v", v)
	}
	if a := tracks[audioTrack]; a.SampleRate != 44100 || a.Channels != 1 || !a.Ready() {
		t.Errorf("audio params %v", a)
	}
	s := c.Stats()
	if s.Packets != uint64(len(flat(groups))) || s.Lost != 0 || s.Dropped != 0 || s.SSRC != 1234 || s.Frames == 0 ||
		s.Transport != TransportUDP || s.LocalPort != c.LocalPort() || s.LastPacket.IsZero() {
		t.Errorf("stats %+v, sent %d packets", s, len(flat(groups)))
	}
}

// TestConnTCPPassive: H.265 + G.711 over RFC 4571; the device connects,
// but first opens a connection it drops without sending.
func TestConnTCPPassive(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	c := open(t, r, TransportTCPPassive, 42)
	c.SetRemote("", 42, true)
	st, _ := runConn(t, c, RunConfig{})
	col := collect(t, st)

	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.LocalPort()}
	first, err := net.DialTCP("tcp4", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	tc, err := net.DialTCP("tcp4", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	cfg := senderConfig{video: testsrc.ClipH265, audio: testsrc.ClipPCMA, ssrc: 42}
	if err := pace(context.Background(), packetize(cfg, buildEvents(t, cfg)), 0, tcpWriter(tc, frameRFC4571)); err != nil {
		t.Fatal(err)
	}
	units := col.waitFor(t, 5*time.Second, "the whole clip", func(u []*unit.Unit) bool {
		n := count(u)
		return n.video >= 99 && n.audio >= 190
	})
	checkUnits(t, units, unit.CodecH265, unit.CodecPCMA)
	if p := st.Tracks()[audioTrack]; p.SampleRate != 8000 || p.Channels != 1 {
		t.Errorf("audio params %v", p)
	}
	if s := c.Stats(); s.RemoteAddr != tc.LocalAddr().String() {
		t.Errorf("remote %q, want %q", s.RemoteAddr, tc.LocalAddr())
	}
}

// TestConnTCPActive: we connect to the device, which frames with "$".
func TestConnTCPActive(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := open(t, r, TransportTCPActive, 7)
	if c.LocalPort() == 0 {
		t.Fatal("no port to announce")
	}
	c.SetRemote(ln.Addr().String(), 0, true)
	st, done := runConn(t, c, RunConfig{})
	col := collect(t, st)
	tc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cfg := senderConfig{video: testsrc.ClipH264, ssrc: 99}
	if err := pace(context.Background(), packetize(cfg, buildEvents(t, cfg)), 0, tcpWriter(tc, frameDollar)); err != nil {
		t.Fatal(err)
	}
	units := col.waitFor(t, 5*time.Second, "the clip", func(u []*unit.Unit) bool { return count(u).video >= 99 })
	checkUnits(t, units, unit.CodecH264, unit.CodecUnknown)
	if s := c.Stats(); s.SSRC != 99 {
		t.Errorf("SSRC %d, want the one latched (99)", s.SSRC)
	}
	// The device hangs up: Run ends.
	tc.Close()
	if err := done.wait(t, 5*time.Second); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Run: %v", err)
	}
}

func TestConnTCPActiveRefused(t *testing.T) {
	r := newTestReceiver(t, false)
	c := open(t, r, TransportTCPActive, 7)
	c.SetRemote("127.0.0.1:1", 0, true)
	st := stream.New("x", 0, nil)
	if err := c.Run(context.Background(), st, RunConfig{}); err == nil || errors.Is(err, ErrNoMedia) {
		t.Fatalf("Run: %v", err)
	}
	c2 := open(t, r, TransportTCPActive, 8)
	if err := c2.Run(context.Background(), st, RunConfig{}); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("Run without address: %v", err)
	}
}

// TestConnSSRC covers the answers devices give, on a port of their own and
// on the shared port, with a stray stream of another SSRC interleaved.
func TestConnSSRC(t *testing.T) {
	cases := []struct {
		name           string
		offer, answer  uint32
		check          bool
		sent, stray    uint32
		wantSSRC       uint32
		wantDroppedMin uint64
	}{
		{name: "offer", offer: 100, answer: 100, check: true, sent: 100, stray: 300, wantSSRC: 100, wantDroppedMin: 1},
		{name: "answer differs", offer: 100, answer: 200, check: true, sent: 200, stray: 300, wantSSRC: 200, wantDroppedMin: 1},
		{name: "answer differs, device sends offer", offer: 100, answer: 200, check: true, sent: 100, stray: 300, wantSSRC: 100, wantDroppedMin: 1},
		{name: "answer zero", offer: 100, answer: 0, check: true, sent: 555, wantSSRC: 555},
		{name: "no check", offer: 100, answer: 200, check: false, sent: 777, wantSSRC: 777},
	}
	for _, single := range []bool{false, true} {
		for _, tc := range cases {
			name := tc.name
			if single {
				name = "single/" + name
			}
			t.Run(name, func(t *testing.T) {
				checkGoroutines(t)
				r := newTestReceiver(t, single)
				c := open(t, r, TransportUDP, tc.offer)
				c.SetRemote("127.0.0.1:5000", tc.answer, tc.check)
				st, _ := runConn(t, c, RunConfig{})
				col := collect(t, st)
				send := udpSender(t, c.LocalPort())
				cfg := senderConfig{video: testsrc.ClipH264, ssrc: tc.sent}
				groups := packetize(cfg, buildEvents(t, cfg))
				var strays [][][]byte
				if tc.stray != 0 {
					scfg := cfg
					scfg.ssrc, scfg.seq = tc.stray, 30000
					strays = packetize(scfg, buildEvents(t, scfg))
				}
				for i, g := range groups {
					for _, p := range g {
						send(p)
					}
					// The stray stream comes from the same socket, as a
					// stale stream of the same device would.
					if i > 0 && i < len(strays) && i%3 == 0 {
						for _, p := range strays[i] {
							send(p)
						}
					}
					time.Sleep(300 * time.Microsecond)
				}
				units := col.waitFor(t, 5*time.Second, "the clip", func(u []*unit.Unit) bool { return count(u).video >= 99 })
				checkUnits(t, units, unit.CodecH264, unit.CodecUnknown)
				s := c.Stats()
				// On the shared port, another SSRC is not even routed here.
				if s.SSRC != tc.wantSSRC || s.Dropped+r.SharedDropped() < tc.wantDroppedMin || s.Lost != 0 {
					t.Errorf("stats %+v, want SSRC %d, dropped ≥ %d", s, tc.wantSSRC, tc.wantDroppedMin)
				}
			})
		}
	}
}

// TestConnSinglePortTwoStreams: two devices on the shared port, told apart
// by SSRC; each stream gets its own codec.
func TestConnSinglePortTwoStreams(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, true)
	c1 := open(t, r, TransportUDP, 1001)
	c2 := open(t, r, TransportUDP, 1002)
	if c1.LocalPort() != r.SinglePort || c2.LocalPort() != r.SinglePort {
		t.Fatalf("ports %d %d, want the shared %d", c1.LocalPort(), c2.LocalPort(), r.SinglePort)
	}
	if _, err := r.Open(TransportUDP, 1001); !errors.Is(err, ErrSSRCInUse) {
		t.Fatalf("second Open of SSRC 1001: %v", err)
	}
	c1.SetRemote("127.0.0.1:5000", 1001, true)
	c2.SetRemote("127.0.0.1:5002", 0x0bad, true) // its own SSRC in the answer
	st1, _ := runConn(t, c1, RunConfig{})
	st2, _ := runConn(t, c2, RunConfig{})
	col1, col2 := collect(t, st1), collect(t, st2)

	cfg1 := senderConfig{video: testsrc.ClipH264, audio: testsrc.ClipAAC, ssrc: 1001}
	cfg2 := senderConfig{video: testsrc.ClipH265, audio: testsrc.ClipPCMA, ssrc: 0x0bad, seq: 5}
	g1, g2 := packetize(cfg1, buildEvents(t, cfg1)), packetize(cfg2, buildEvents(t, cfg2))
	s1, s2 := udpSender(t, r.SinglePort), udpSender(t, r.SinglePort)
	for i := range max(len(g1), len(g2)) {
		if i < len(g1) {
			for _, p := range g1[i] {
				s1(p)
			}
		}
		if i < len(g2) {
			for _, p := range g2[i] {
				s2(p)
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	u1 := col1.waitFor(t, 5*time.Second, "stream 1", func(u []*unit.Unit) bool { n := count(u); return n.video >= 99 && n.audio >= 170 })
	u2 := col2.waitFor(t, 5*time.Second, "stream 2", func(u []*unit.Unit) bool { n := count(u); return n.video >= 99 && n.audio >= 190 })
	checkUnits(t, u1, unit.CodecH264, unit.CodecAAC)
	checkUnits(t, u2, unit.CodecH265, unit.CodecPCMA)
	if r.SharedDropped() != 0 {
		t.Errorf("%d datagrams not routed", r.SharedDropped())
	}
	// Closing unregisters: the SSRC can be opened again.
	c1.Close()
	c3, err := r.Open(TransportUDP, 1001)
	if err != nil {
		t.Fatal(err)
	}
	c3.Close()
}

// TestConnLossAndReorder: 5 % loss, reordering and duplicates on UDP still
// give keyframes and rising timestamps.
func TestConnLossAndReorder(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	c := open(t, r, TransportUDP, 5)
	c.SetRemote("", 5, true)
	st, _ := runConn(t, c, RunConfig{})
	col := collect(t, st)
	cfg := senderConfig{video: testsrc.ClipH264, audio: testsrc.ClipAAC, ssrc: 5, loops: 4, payload: 500}
	groups := lossy(packetize(cfg, buildEvents(t, cfg)), 0.05, 0.05, 0.01, 1)
	if err := pace(context.Background(), groups, 300*time.Microsecond, udpSender(t, c.LocalPort())); err != nil {
		t.Fatal(err)
	}
	units := col.waitFor(t, 5*time.Second, "keyframes", func(u []*unit.Unit) bool {
		n := count(u)
		return n.keys >= 2 && n.audio > 400
	})
	time.Sleep(200 * time.Millisecond)
	units = col.snapshot()
	checkUnits(t, units, unit.CodecH264, unit.CodecAAC)
	s := c.Stats()
	if s.Lost == 0 || s.Reordered == 0 || s.Duplicates == 0 {
		t.Errorf("stats %+v: loss, reordering and duplicates not all seen", s)
	}
	t.Logf("%s; stats %+v", describe(units), s)
}

func TestConnNoMedia(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	for _, tr := range []Transport{TransportUDP, TransportTCPPassive} {
		c := open(t, r, tr, 1)
		start := time.Now()
		err := c.Run(context.Background(), stream.New("x", 0, nil), RunConfig{NoMediaTimeout: 300 * time.Millisecond})
		if !errors.Is(err, ErrNoMedia) {
			t.Fatalf("%s: Run: %v", tr, err)
		}
		if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
			t.Errorf("%s: ErrNoMedia after %v", tr, d)
		}
		c.Close()
	}
	if n := r.PortsInUse(); n != 0 {
		t.Fatalf("%d ports still in use", n)
	}
}

// TestConnEndedDrains: after Ended, what is still coming is read and the
// last frame is published.
func TestConnEndedDrains(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, false)
	c := open(t, r, TransportUDP, 9)
	c.SetRemote("", 9, true)
	ended := make(chan struct{})
	st, done := runConn(t, c, RunConfig{Ended: ended})
	col := collect(t, st)
	cfg := senderConfig{video: testsrc.ClipH264, ssrc: 9}
	groups := packetize(cfg, buildEvents(t, cfg))
	send := udpSender(t, c.LocalPort())
	half := len(groups) / 2
	pace(context.Background(), groups[:half], 300*time.Microsecond, send)
	close(ended) // the BYE overtakes the tail of the stream
	pace(context.Background(), groups[half:], 300*time.Microsecond, send)
	if err := done.wait(t, 5*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	col.waitFor(t, 2*time.Second, "every frame", func(u []*unit.Unit) bool { return count(u).video == 100 })
}

func TestConnCloseStopsRun(t *testing.T) {
	checkGoroutines(t)
	r := newTestReceiver(t, true)
	for _, tr := range []Transport{TransportUDP, TransportTCPPassive} {
		for _, single := range []bool{false, true} {
			rr := r
			if !single {
				rr = newTestReceiver(t, false)
			}
			c := open(t, rr, tr, 3)
			done := make(chan error, 1)
			go func() { done <- c.Run(context.Background(), stream.New("x", 0, nil), RunConfig{}) }()
			time.Sleep(20 * time.Millisecond)
			c.Close()
			select {
			case err := <-done:
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("%s: Run after Close: %v", tr, err)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("%s: Run did not return after Close", tr)
			}
			if err := c.Run(context.Background(), stream.New("x", 0, nil), RunConfig{}); !errors.Is(err, ErrClosed) {
				t.Fatalf("Run on a closed Conn: %v", err)
			}
		}
	}
}
