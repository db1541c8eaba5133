package testsrc

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
)

// waitTimeout bounds every wait on the real-time server.
const waitTimeout = 10 * time.Second

// checkGoroutines fails the test if goroutines of gortsplib or of this
// package are still running once the test and its cleanups are done.
// Register it first so its cleanup runs last.
func checkGoroutines(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		var leaked []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked = leaked[:0]
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			for g := range strings.SplitSeq(string(buf), "\n\n") {
				if strings.Contains(g, "testsrc.checkGoroutines") {
					continue
				}
				if strings.Contains(g, "github.com/bluenviron/gortsplib") ||
					strings.Contains(g, "github.com/nvr/nvr/media/testsrc.(*") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newTestServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustVideo(t *testing.T, name string) *VideoClip {
	t.Helper()
	c, err := LoadVideo(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustAudio(t *testing.T, name string) *AudioClip {
	t.Helper()
	c, err := LoadAudio(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reader is a gortsplib client that decodes what it receives.
type reader struct {
	c    *gortsplib.Client
	desc *description.Session

	mu          sync.Mutex
	videoPTS    []int64 // one per decoded access unit
	videoKeys   int     // decoded access units that are random access points
	firstKeyPS  bool    // the first random access point carried an SPS
	audioPTS    []int64 // one per AAC access unit or G.711 packet
	lastVideoTS uint32  // raw RTP timestamp
	errs        []error
}

// startReader plays rawURL (which may carry user:pass) with the given
// transport. The client is closed at the end of the test.
func startReader(t *testing.T, rawURL string, transport gortsplib.Transport) (*reader, error) {
	t.Helper()
	u, err := base.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{}
	r.c = &gortsplib.Client{
		Scheme:    u.Scheme,
		Host:      u.Host,
		Transport: &transport,
		// Keep the client's UDP ports on loopback too.
		ListenPacket: func(network, address string) (net.PacketConn, error) {
			_, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			return net.ListenPacket(network, net.JoinHostPort(listenHost, port))
		},
	}
	if err := r.c.Start2(); err != nil {
		return nil, err
	}
	t.Cleanup(r.c.Close)

	r.desc, _, err = r.c.Describe(u)
	if err != nil {
		return nil, err
	}
	if err := r.c.SetupAll(r.desc.BaseURL, r.desc.Medias); err != nil {
		return nil, err
	}
	// Callbacks can be set only on medias that are set up.
	for _, medi := range r.desc.Medias {
		if err := r.handle(medi); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.c.Play(nil); err != nil {
		return nil, err
	}
	return r, nil
}

// handle decodes medi. The client's time decoder must see every packet: it
// starts at the first fragment of a key frame, so PTS is taken before
// depacketizing.
func (r *reader) handle(medi *description.Media) error {
	forma := medi.Formats[0]
	onVideo := func(pkt *rtp.Packet, pts int64, key, hasSPS bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if key && r.videoKeys == 0 {
			r.firstKeyPS = hasSPS
		}
		if key {
			r.videoKeys++
		}
		if r.videoKeys > 0 { // like a decoder, start at a random access point
			r.videoPTS = append(r.videoPTS, pts)
		}
		r.lastVideoTS = pkt.Timestamp
	}
	onAudio := func(pts int64, n int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := range n {
			r.audioPTS = append(r.audioPTS, pts+int64(i*1024))
		}
	}
	fail := func(err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.errs = append(r.errs, err)
	}

	switch forma := forma.(type) {
	case *format.H264:
		dec, err := forma.CreateDecoder()
		if err != nil {
			return err
		}
		r.c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
			pts, ok := r.c.PacketPTS2(medi, pkt)
			if !ok {
				return
			}
			au, err := dec.Decode(pkt)
			switch {
			case errors.Is(err, rtph264.ErrMorePacketsNeeded), errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious):
			case err != nil:
				fail(err)
			default:
				hasSPS := len(au) > 0 && h264.NALUType(au[0][0]&0x1f) == h264.NALUTypeSPS
				onVideo(pkt, pts, h264.IsRandomAccess(au), hasSPS)
			}
		})
	case *format.H265:
		dec, err := forma.CreateDecoder()
		if err != nil {
			return err
		}
		r.c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
			pts, ok := r.c.PacketPTS2(medi, pkt)
			if !ok {
				return
			}
			au, err := dec.Decode(pkt)
			switch {
			case errors.Is(err, rtph265.ErrMorePacketsNeeded), errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious):
			case err != nil:
				fail(err)
			default:
				hasSPS := len(au) > 1 && h265.NALUType((au[1][0]>>1)&0x3f) == h265.NALUType_SPS_NUT
				onVideo(pkt, pts, h265.IsRandomAccess(au), hasSPS)
			}
		})
	case *format.MPEG4Audio:
		dec, err := forma.CreateDecoder()
		if err != nil {
			return err
		}
		r.c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
			pts, ok := r.c.PacketPTS2(medi, pkt)
			if !ok {
				return
			}
			aus, err := dec.Decode(pkt)
			switch {
			case errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded):
			case err != nil:
				fail(err)
			default:
				onAudio(pts, len(aus))
			}
		})
	case *format.G711:
		dec, err := forma.CreateDecoder()
		if err != nil {
			return err
		}
		r.c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
			pts, ok := r.c.PacketPTS2(medi, pkt)
			if !ok {
				return
			}
			samples, err := dec.Decode(pkt)
			if err != nil {
				fail(err)
				return
			}
			if len(samples) != 160 {
				fail(errors.New("G.711 packet is not 20 ms"))
			}
			onAudio(pts, 1)
		})
	}
	return nil
}

func (r *reader) counts() (video, keys, audio int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.videoPTS), r.videoKeys, len(r.audioPTS)
}

func (r *reader) videoTS() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastVideoTS
}

// check verifies what was received: a key frame with parameter sets first,
// and PTS increasing by one frame (3600 at 90 kHz, 25 fps) or one audio
// frame. Over UDP a loaded machine may drop packets, so there PTS only has to
// increase in whole frames and depacketizing errors are tolerated.
func (r *reader) check(t *testing.T, audioStep int64, lossy bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !lossy {
		for _, err := range r.errs {
			t.Errorf("decode: %v", err)
		}
	}
	if !r.firstKeyPS {
		t.Error("first key frame carries no SPS")
	}
	checkSteps(t, "video", r.videoPTS, 3600, lossy)
	checkSteps(t, "audio", r.audioPTS, audioStep, lossy)
}

func checkSteps(t *testing.T, what string, pts []int64, step int64, lossy bool) {
	t.Helper()
	for i := 1; i < len(pts); i++ {
		d := pts[i] - pts[i-1]
		if d == step || (lossy && d > 0 && d%step == 0) {
			continue
		}
		t.Fatalf("%s PTS step %d at %d, want %d", what, d, i, step)
	}
}

func TestServerPlay(t *testing.T) {
	cases := []struct {
		name      string
		transport gortsplib.Transport
		video     string
		audio     string
		audioStep int64
	}{
		{"tcp h264 aac", gortsplib.TransportTCP, ClipH264, ClipAAC, 1024},
		{"udp h264 aac", gortsplib.TransportUDP, ClipH264, ClipAAC, 1024},
		{"tcp h265 pcma", gortsplib.TransportTCP, ClipH265, ClipPCMA, 160},
		{"tcp h264 720p", gortsplib.TransportTCP, ClipH264HD, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkGoroutines(t)
			s := newTestServer(t, ServerConfig{UDP: true})
			video := mustVideo(t, c.video)
			var audio *AudioClip
			if c.audio != "" {
				audio = mustAudio(t, c.audio)
			}
			s.AddStream("/cam/1", video, audio)

			if s.Sessions() != 0 || s.Conns() != 0 {
				t.Fatalf("before reading: %d sessions, %d conns", s.Sessions(), s.Conns())
			}
			r, err := startReader(t, s.URL("cam/1"), c.transport)
			if err != nil {
				t.Fatal(err)
			}
			if s.Sessions() != 1 || s.Conns() != 1 {
				t.Errorf("while playing: %d sessions, %d conns, want 1 and 1", s.Sessions(), s.Conns())
			}

			checkDescription(t, r.desc, video, audio)

			// A key frame arrives within a GOP (1 s); then read one more GOP.
			waitFor(t, "two key frames and audio", func() bool {
				v, k, a := r.counts()
				return k >= 2 && v >= 26 && (audio == nil || a >= 40)
			})
			r.check(t, c.audioStep, c.transport == gortsplib.TransportUDP)

			r.c.Close()
			waitFor(t, "session and connection to close", func() bool {
				return s.Sessions() == 0 && s.Conns() == 0
			})
		})
	}
}

func checkDescription(t *testing.T, desc *description.Session, video *VideoClip, audio *AudioClip) {
	t.Helper()
	want := 1
	if audio != nil {
		want = 2
	}
	if len(desc.Medias) != want {
		t.Fatalf("%d medias, want %d", len(desc.Medias), want)
	}
	switch f := desc.Medias[0].Formats[0].(type) {
	case *format.H264:
		if video.Codec != CodecH264 || string(f.SPS) != string(video.SPS) || string(f.PPS) != string(video.PPS) ||
			f.PayloadTyp != 96 || f.PacketizationMode != 1 {
			t.Errorf("H.264 format %+v does not match the clip", f)
		}
	case *format.H265:
		if video.Codec != CodecH265 || string(f.VPS) != string(video.VPS) || string(f.SPS) != string(video.SPS) ||
			string(f.PPS) != string(video.PPS) || f.PayloadTyp != 96 {
			t.Errorf("H.265 format %+v does not match the clip", f)
		}
	default:
		t.Errorf("video format %T", f)
	}
	if audio == nil {
		return
	}
	switch f := desc.Medias[1].Formats[0].(type) {
	case *format.MPEG4Audio:
		if audio.Codec != CodecAAC || f.PayloadTyp != 97 || f.Config.SampleRate != 44100 || f.SizeLength != 13 ||
			f.IndexLength != 3 || f.IndexDeltaLength != 3 {
			t.Errorf("AAC format %+v does not match the clip", f)
		}
	case *format.G711:
		if audio.Codec != CodecPCMA || f.PayloadTyp != 8 || f.MULaw || f.SampleRate != 8000 || f.ChannelCount != 1 {
			t.Errorf("G.711 format %+v does not match the clip", f)
		}
	default:
		t.Errorf("audio format %T", f)
	}
}

func TestServerNotFound(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, ServerConfig{})
	s.AddStream("cam", mustVideo(t, ClipH264), nil)
	if _, err := startReader(t, s.URL("other"), gortsplib.TransportTCP); err == nil {
		t.Fatal("reading an unknown path succeeded")
	}
}

func TestServerAuth(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, ServerConfig{Username: "admin", Password: "s3cret"})
	s.AddStream("cam", mustVideo(t, ClipH264), nil)
	withAuth := func(user string) string {
		return strings.Replace(s.URL("cam"), "rtsp://", "rtsp://"+user+"@", 1)
	}

	for _, u := range []string{s.URL("cam"), withAuth("admin:wrong"), withAuth("other:s3cret")} {
		if _, err := startReader(t, u, gortsplib.TransportTCP); err == nil {
			t.Errorf("%s: reading succeeded", u)
		}
	}

	r, err := startReader(t, withAuth("admin:s3cret"), gortsplib.TransportTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a key frame", func() bool { _, k, _ := r.counts(); return k >= 1 })
}

func TestServerRestart(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, ServerConfig{UDP: true})
	s.AddStream("cam", mustVideo(t, ClipH264), mustAudio(t, ClipAAC))
	addr := s.Addr()

	r1, err := startReader(t, s.URL("cam"), gortsplib.TransportUDP)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "video before restart", func() bool { v, _, _ := r1.counts(); return v >= 1 })

	s.Close()
	if err := r1.c.Wait(); err == nil {
		t.Error("client saw no error when the server closed")
	}
	if s.Sessions() != 0 || s.Conns() != 0 {
		t.Errorf("after Close: %d sessions, %d conns", s.Sessions(), s.Conns())
	}
	if _, err := startReader(t, s.URL("cam"), gortsplib.TransportTCP); err == nil {
		t.Fatal("reading a closed server succeeded")
	}
	tsBefore := r1.videoTS()

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	for _, tr := range []gortsplib.Transport{gortsplib.TransportTCP, gortsplib.TransportUDP} {
		r2, err := startReader(t, s.URL("cam"), tr)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "video after restart", func() bool { v, _, a := r2.counts(); return v >= 1 && a >= 1 })
		// The timeline follows the wall clock across the restart.
		if ts := r2.videoTS(); int32(ts-tsBefore) <= 0 {
			t.Errorf("%v: RTP timestamp %d after restart, %d before", tr, ts, tsBefore)
		}
		r2.c.Close()
	}

	// Restart on a running server closes it first.
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
}

func TestServerAddStreams(t *testing.T) {
	checkGoroutines(t)
	s := newTestServer(t, ServerConfig{})
	video := mustVideo(t, ClipH264HD)
	s.AddStreams("load/", 3, video, nil)
	s.AddStream("load/1", mustVideo(t, ClipH264), nil) // already published: ignored

	var readers []*reader
	for _, p := range []string{"load/0", "load/2", "/load/1"} {
		r, err := startReader(t, s.URL(p), gortsplib.TransportTCP)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		checkDescription(t, r.desc, video, nil)
		readers = append(readers, r)
	}
	if _, err := startReader(t, s.URL("load/3"), gortsplib.TransportTCP); err == nil {
		t.Error("load/3 exists")
	}
	if n := s.Sessions(); n != 3 {
		t.Errorf("%d sessions, want 3", n)
	}
	for _, r := range readers {
		waitFor(t, "a key frame", func() bool { _, k, _ := r.counts(); return k >= 1 })
		r.check(t, 1, false)
	}
}

// TestServerCloseWhilePlaying checks that Close drops readers and leaves no
// goroutine behind, and that adding a stream while closed works after Restart.
func TestServerCloseWhilePlaying(t *testing.T) {
	checkGoroutines(t)
	s, err := NewServer(ServerConfig{UDP: true})
	if err != nil {
		t.Fatal(err)
	}
	s.AddStream("a", mustVideo(t, ClipH265), mustAudio(t, ClipPCMA))
	r, err := startReader(t, s.URL("a"), gortsplib.TransportUDP)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "video", func() bool { v, _, _ := r.counts(); return v >= 1 })
	s.Close()
	s.Close() // idempotent
	r.c.Close()

	s.AddStream("b", mustVideo(t, ClipH264), nil)
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	r, err = startReader(t, s.URL("b"), gortsplib.TransportTCP)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "video of a stream added while closed", func() bool { v, _, _ := r.counts(); return v >= 1 })
	r.c.Close()
	s.Close()
}
