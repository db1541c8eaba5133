package ps

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/nvr/nvr/media/codec/ps"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// testLogger logs to the test output with -v, and nowhere otherwise.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// checkGoroutines fails the test when goroutines started during it are
// still running at its end.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines leaked:\n%s", runtime.NumGoroutine()-before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// senderConfig describes the RTP a test device sends.
type senderConfig struct {
	video, audio string // testsrc clip names; "" for none
	loops        int    // passes over the clips (default 1)
	ssrc         uint32
	seq          uint16
	extension    bool // an RFC 8285 header extension on every packet
	markerFirst  bool // the marker bit on the first packet of a frame
	markerEvery  bool // the marker bit on every packet
	markerNever  bool // the marker bit on no packet
	payload      int  // largest RTP payload (default 1400)
	skipKeys     int  // leave out the first n keyframes (and their GOPs)
}

// event is one frame of the PS to send.
type event struct {
	pts   int64
	video bool
	key   bool
	codec unit.Codec
	data  []byte // Annex-B, ADTS or G.711
}

// startPTS is where the test streams' clocks start: far from zero, as on
// a device that has been up for a while.
const startPTS = 123456789

// buildEvents interleaves the frames of the clips by time.
func buildEvents(t testing.TB, cfg senderConfig) []event {
	t.Helper()
	loops := max(cfg.loops, 1)
	var evs []event
	if cfg.video != "" {
		clip, err := testsrc.LoadVideo(cfg.video)
		if err != nil {
			t.Fatal(err)
		}
		codec := unit.CodecH264
		if clip.Codec == testsrc.CodecH265 {
			codec = unit.CodecH265
		}
		step := int64(90000 / clip.FPS)
		k, skipped := 0, 0
		skipping := cfg.skipKeys > 0
		for range loops {
			for _, fr := range clip.Frames {
				if skipping && fr.Key {
					if skipped == cfg.skipKeys {
						skipping = false
					}
					skipped++
				}
				pts := startPTS + int64(k)*step
				k++
				if skipping && fr.Key {
					continue
				}
				var annexB []byte
				for _, n := range fr.NALUs {
					annexB = append(annexB, 0, 0, 0, 1)
					annexB = append(annexB, n...)
				}
				evs = append(evs, event{pts: pts, video: true, key: fr.Key, codec: codec, data: annexB})
			}
		}
	}
	if cfg.audio != "" {
		clip, err := testsrc.LoadAudio(cfg.audio)
		if err != nil {
			t.Fatal(err)
		}
		j := 0
		for range loops {
			for _, fr := range clip.Frames {
				pts := startPTS + int64(j)*int64(clip.SamplesPerFrame)*90000/int64(clip.SampleRate)
				j++
				ev := event{pts: pts, codec: unit.CodecPCMA, data: fr}
				if clip.Codec == testsrc.CodecAAC {
					ev.codec = unit.CodecAAC
					pkts := mpeg4audio.ADTSPackets{{
						Type: clip.Config.Type, SampleRate: clip.SampleRate, ChannelConfig: clip.Config.ChannelConfig,
						ChannelCount: clip.Channels, //nolint:staticcheck // Marshal still reads it
						AU:           fr,
					}}
					if ev.data, err = pkts.Marshal(); err != nil {
						t.Fatal(err)
					}
				}
				evs = append(evs, ev)
			}
		}
	}
	sort.SliceStable(evs, func(a, b int) bool { return evs[a].pts < evs[b].pts })
	return evs
}

// packetize turns events into RTP packets, one list per event.
func packetize(cfg senderConfig, evs []event) [][][]byte {
	payload := cfg.payload
	if payload == 0 {
		payload = 1400
	}
	var mux ps.Muxer
	seq := cfg.seq
	var buf []byte
	out := make([][][]byte, len(evs))
	for i, ev := range evs {
		if ev.video {
			buf = mux.WriteVideo(buf[:0], ev.codec, ev.pts, ev.pts, ev.key, ev.data)
		} else {
			buf = mux.WriteAudio(buf[:0], ev.codec, ev.pts, ev.data)
		}
		for first := true; len(buf) > 0; first = false {
			n := min(len(buf), payload)
			last := n == len(buf)
			marker := last
			switch {
			case cfg.markerFirst:
				marker = first
			case cfg.markerEvery:
				marker = true
			case cfg.markerNever:
				marker = false
			}
			out[i] = append(out[i], rtpPacket(cfg, seq, uint32(ev.pts), marker, buf[:n]))
			seq++
			buf = buf[n:]
		}
	}
	return out
}

// rtpPacket builds one packet with the quirks of cfg.
func rtpPacket(cfg senderConfig, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	b0, b1 := byte(0x80), byte(96)
	if cfg.extension {
		b0 |= 0x10
	}
	if marker {
		b1 |= 0x80
	}
	p := []byte{b0, b1}
	p = binary.BigEndian.AppendUint16(p, seq)
	p = binary.BigEndian.AppendUint32(p, ts)
	p = binary.BigEndian.AppendUint32(p, cfg.ssrc)
	if cfg.extension {
		// RFC 8285 one-byte form: ID 1, 3 bytes, as Hikvision adds.
		p = append(p, 0xbe, 0xde, 0x00, 0x01, 0x12, 0xaa, 0xbb, 0xcc)
	}
	return append(p, payload...)
}

// flat lists the packets of all events.
func flat(groups [][][]byte) [][]byte {
	var out [][]byte
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// framing wraps a packet for TCP.
type framing int

const (
	frameRFC4571 framing = iota
	frameDollar
)

func (f framing) wrap(pkt []byte) []byte {
	if f == frameDollar {
		return append(binary.BigEndian.AppendUint16([]byte{'$', 0}, uint16(len(pkt))), pkt...)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(pkt))), pkt...)
}

// pace sends the packet groups with a short pause after each frame, like a
// device (but faster than real time).
func pace(ctx context.Context, groups [][][]byte, gap time.Duration, send func([]byte) error) error {
	for _, g := range groups {
		for _, p := range g {
			if err := send(p); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(gap):
		}
	}
	return nil
}

// lossy sends packets over UDP with loss, swaps and duplicates drawn from
// a fixed seed.
func lossy(groups [][][]byte, loss, swap, dup float64, seed uint64) [][][]byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([][][]byte, len(groups))
	var held []byte
	for i, g := range groups {
		for _, p := range g {
			switch x := r.Float64(); {
			case x < loss:
				continue
			case x < loss+swap && held == nil:
				held = p // sent after the next one
				continue
			case x < loss+swap+dup:
				out[i] = append(out[i], p)
			}
			out[i] = append(out[i], p)
			if held != nil {
				out[i] = append(out[i], held)
				held = nil
			}
		}
	}
	return out
}

// newTestReceiver returns an initialized Receiver on 127.0.0.1.
func newTestReceiver(t *testing.T, single bool) *Receiver {
	t.Helper()
	lo := 20000 + rand.IntN(20000)
	r := &Receiver{ListenIP: "127.0.0.1", PortLo: lo, PortHi: lo + 99, Logger: testLogger(t)}
	if single {
		r.SinglePort = freeUDPPort(t)
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// freeUDPPort returns a UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// collector reads a stream in the background and keeps every unit.
type collector struct {
	mu    sync.Mutex
	units []*unit.Unit
	done  chan struct{}
	err   error
}

func collect(t *testing.T, st *stream.Stream) *collector {
	c := &collector{done: make(chan struct{})}
	r := st.NewReader()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(c.done)
		defer r.Close()
		for {
			units, err := r.Read(ctx)
			if err != nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
				return
			}
			c.mu.Lock()
			c.units = append(c.units, units...)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

func (c *collector) snapshot() []*unit.Unit {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*unit.Unit(nil), c.units...)
}

// waitFor waits until cond holds for the units collected so far.
func (c *collector) waitFor(t *testing.T, timeout time.Duration, what string, cond func([]*unit.Unit) bool) []*unit.Unit {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		u := c.snapshot()
		if cond(u) {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, describe(u))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ended reports whether the reader saw the end of the stream.
func (c *collector) ended() bool {
	select {
	case <-c.done:
		return errors.Is(c.err, stream.ErrClosed)
	default:
		return false
	}
}

type unitCount struct{ video, keys, audio int }

func count(units []*unit.Unit) unitCount {
	var n unitCount
	for _, u := range units {
		if u.IsVideo() {
			n.video++
			if u.Key {
				n.keys++
			}
		} else {
			n.audio++
		}
	}
	return n
}

func describe(units []*unit.Unit) string {
	n := count(units)
	return fmt.Sprintf("video %d (keys %d), audio %d", n.video, n.keys, n.audio)
}

// checkUnits checks what every reader relies on: the first video unit is a
// keyframe with its parameter sets, timestamps rise per track, and the
// codecs are the expected ones.
func checkUnits(t *testing.T, units []*unit.Unit, video, audio unit.Codec) {
	t.Helper()
	var last [2]time.Duration
	var seen [2]bool
	for i, u := range units {
		if u.Params == nil {
			t.Fatalf("unit %d without params", i)
		}
		want := video
		if u.Track == audioTrack {
			want = audio
		}
		if u.Params.Codec != want {
			t.Fatalf("unit %d of track %d: codec %v, want %v", i, u.Track, u.Params.Codec, want)
		}
		if u.IsVideo() && !seen[0] && !u.Key {
			t.Fatalf("first video unit is not a keyframe")
		}
		if seen[u.Track] && u.DTS <= last[u.Track] {
			t.Fatalf("unit %d of track %d: DTS %v after %v", i, u.Track, u.DTS, last[u.Track])
		}
		if u.PTS < u.DTS {
			t.Fatalf("unit %d: PTS %v before DTS %v", i, u.PTS, u.DTS)
		}
		last[u.Track], seen[u.Track] = u.DTS, true
	}
	if video != unit.CodecUnknown && !seen[videoTrack] {
		t.Fatal("no video")
	}
	if audio != unit.CodecUnknown && !seen[audioTrack] {
		t.Fatal("no audio")
	}
}

// udpSender sends datagrams to a local port.
func udpSender(t *testing.T, port int) func([]byte) error {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return func(p []byte) error { _, err := c.Write(p); return err }
}

// tcpWriter sends framed packets on a TCP connection.
func tcpWriter(c net.Conn, f framing) func([]byte) error {
	return func(p []byte) error {
		_, err := c.Write(f.wrap(p))
		return err
	}
}
