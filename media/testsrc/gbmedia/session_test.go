package gbmedia

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nvr/nvr/media/unit"
)

// checkStream checks what a clean stream must look like on the wire and
// after the ps.Demuxer: RTP headers, markers, frames of both codecs with
// keyframes, and PTS steps of one frame.
func checkStream(t *testing.T, pkts []rxPacket, video, audio unit.Codec) []rxFrame {
	t.Helper()
	for i, p := range pkts {
		if p.hdr.PayloadType != PayloadType || p.hdr.SSRC != testSSRC || p.hdr.Version != 2 {
			t.Fatalf("packet %d: header %+v", i, p.hdr)
		}
		if len(p.payload) > DefaultPayloadSize {
			t.Fatalf("packet %d: payload %d bytes", i, len(p.payload))
		}
		if i > 0 && p.hdr.SequenceNumber != pkts[i-1].hdr.SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, p.hdr.SequenceNumber, pkts[i-1].hdr.SequenceNumber)
		}
		// The marker closes each frame: set exactly when the next packet
		// starts another frame (each frame starts a pack).
		if i+1 < len(pkts) && p.hdr.Marker != startsFrame(pkts[i+1]) {
			t.Fatalf("packet %d: marker %v", i, p.hdr.Marker)
		}
	}
	frames := demux(pkts)
	vf, af := framesOf(frames, true), framesOf(frames, false)
	if len(vf) < 10 || len(af) < 10 {
		t.Fatalf("%d video and %d audio frames", len(vf), len(af))
	}
	if !isKey(vf[0]) {
		t.Error("first video frame is not a keyframe")
	}
	for i, f := range vf {
		if f.codec != video {
			t.Fatalf("video frame %d: codec %v, want %v", i, f.codec, video)
		}
		if i > 0 && f.pts-vf[i-1].pts != 3600 {
			t.Fatalf("video frame %d: PTS step %d, want 3600 (25 fps)", i, f.pts-vf[i-1].pts)
		}
	}
	if vf[0].pts != PTSOffset {
		t.Errorf("first video PTS %d, want %d", vf[0].pts, PTSOffset)
	}
	for i, f := range af {
		if f.codec != audio {
			t.Fatalf("audio frame %d: codec %v, want %v", i, f.codec, audio)
		}
	}
	return frames
}

// startsFrame reports whether a packet is the first of a frame: the sender
// starts every frame with a pack header, at the start of a packet.
func startsFrame(p rxPacket) bool {
	return bytes.HasPrefix(p.payload, []byte{0, 0, 1, 0xba})
}

func TestLiveUDP(t *testing.T) {
	checkGoroutines(t)
	rx := newUDPReceiver(t)
	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{Transport: TransportUDP, RemoteAddr: rx.addr})
	if sess.LocalPort() == 0 {
		t.Fatal("no local port")
	}

	time.Sleep(200 * time.Millisecond)
	if n := rx.count(); n != 0 {
		t.Fatalf("%d packets before Begin", n)
	}
	begin := time.Now()
	sess.Begin()
	pkts := rx.waitFor(5*time.Second, "31 video frames", func(p []rxPacket) bool {
		return len(p) > 0 && p[len(p)-1].hdr.Timestamp-p[0].hdr.Timestamp >= 30*3600
	})
	// Real time: frame 30 is due 1.2 s after the first.
	if el := time.Since(begin); el < 1100*time.Millisecond {
		t.Errorf("30 frames after %v: faster than real time", el)
	}
	frames := checkStream(t, pkts, unit.CodecH264, unit.CodecPCMA)
	for i, f := range framesOf(frames, false) {
		if len(f.data) != 160 {
			t.Fatalf("G.711 frame %d: %d bytes, want 160 (20 ms)", i, len(f.data))
		}
		if i > 0 && f.pts-frames[0].pts < 0 {
			t.Fatal("audio before the first video frame")
		}
	}
	scan := scanPS(psPayload(pkts))
	if scan.errors != 0 || scan.psms == 0 {
		t.Errorf("PS scan: %+v", scan)
	}
	st := sess.Stats()
	if !st.Connected || !st.Begun || st.KeyFrames == 0 || st.Packets < uint64(len(pkts)) || st.Bytes == 0 {
		t.Errorf("stats %+v", st)
	}
	if src := pkts[0].src; src != sess.LocalPort() {
		t.Errorf("packets come from port %d, LocalPort is %d", src, sess.LocalPort())
	}
}

func TestLiveTCP(t *testing.T) {
	cases := []struct {
		name        string
		transport   string
		interleaved bool
		clips       string
		video       unit.Codec
		audio       unit.Codec
	}{
		{"passive rfc4571 h265", TransportTCPPassive, false, ClipSetH265AAC, unit.CodecH265, unit.CodecAAC},
		{"passive interleaved", TransportTCPPassive, true, ClipSetH264G711A, unit.CodecH264, unit.CodecPCMA},
		{"active rfc4571", TransportTCPActive, false, ClipSetH264G711A, unit.CodecH264, unit.CodecPCMA},
		{"active interleaved h265", TransportTCPActive, true, ClipSetH265AAC, unit.CodecH265, unit.CodecAAC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkGoroutines(t)
			s := &Sender{BindIP: testHost, Clips: c.clips, Interleaved: c.interleaved}
			var rx *receiver
			var sess *Session
			if c.transport == TransportTCPPassive {
				rx = newTCPListenReceiver(t, c.interleaved)
				sess = startSession(t, s, Request{Transport: c.transport, RemoteAddr: rx.addr})
			} else {
				sess = startSession(t, s, Request{Transport: c.transport})
				// The platform connects after the 200 OK, before the ACK.
				rx = dialTCPReceiver(t, sess.LocalPort(), c.interleaved)
				time.Sleep(50 * time.Millisecond)
				if n := rx.count(); n != 0 {
					t.Fatalf("%d packets before Begin", n)
				}
			}
			sess.Begin()
			pkts := rx.waitFor(5*time.Second, "16 video frames", func(p []rxPacket) bool {
				return len(p) > 0 && p[len(p)-1].hdr.Timestamp-p[0].hdr.Timestamp >= 15*3600
			})
			frames := checkStream(t, pkts, c.video, c.audio)
			if c.audio == unit.CodecAAC {
				for i, f := range framesOf(frames, false) {
					if len(f.data) < 8 || f.data[0] != 0xff || f.data[1]&0xf0 != 0xf0 {
						t.Fatalf("AAC frame %d is not ADTS", i)
					}
				}
			}
			if !sess.Stats().Connected {
				t.Error("not connected")
			}
		})
	}
}

// TestTCPPassiveRetry starts the platform's listener late: the sender keeps
// dialing.
func TestTCPPassiveRetry(t *testing.T) {
	checkGoroutines(t)
	ln, err := net.Listen("tcp", testHost+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{Transport: TransportTCPPassive, RemoteAddr: addr})
	sess.Begin()
	time.Sleep(500 * time.Millisecond)
	if sess.Stats().Connected {
		t.Fatal("connected to nothing")
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	c, err := ln.Accept()
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if port := c.RemoteAddr().(*net.TCPAddr).Port; port != sess.LocalPort() {
		t.Errorf("connected from port %d, LocalPort %d", port, sess.LocalPort())
	}
	buf := make([]byte, 2)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
}

func TestTCPTimeouts(t *testing.T) {
	checkGoroutines(t)
	t.Run("active", func(t *testing.T) {
		s := &Sender{BindIP: testHost, AcceptTimeout: 200 * time.Millisecond}
		sess := startSession(t, s, Request{Transport: TransportTCPActive})
		select {
		case <-sess.Done():
		case <-time.After(3 * time.Second):
			t.Fatal("no end without a platform")
		}
		if !errors.Is(sess.Err(), ErrTimeout) {
			t.Errorf("Err() = %v", sess.Err())
		}
	})
	t.Run("passive", func(t *testing.T) {
		ln, err := net.Listen("tcp", testHost+":0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		s := &Sender{BindIP: testHost, DialTimeout: 300 * time.Millisecond}
		sess := startSession(t, s, Request{Transport: TransportTCPPassive, RemoteAddr: addr})
		sess.Begin()
		select {
		case <-sess.Done():
		case <-time.After(3 * time.Second):
			t.Fatal("no end without a platform")
		}
		if !errors.Is(sess.Err(), ErrTimeout) {
			t.Errorf("Err() = %v", sess.Err())
		}
	})
}

// TestPlatformHangsUp: a TCP session ends when the platform closes the
// connection.
func TestPlatformHangsUp(t *testing.T) {
	checkGoroutines(t)
	s := &Sender{BindIP: testHost}
	sess := startSession(t, s, Request{Transport: TransportTCPActive})
	c, err := net.Dial("tcp", net.JoinHostPort(testHost, strconv.Itoa(sess.LocalPort())))
	if err != nil {
		t.Fatal(err)
	}
	sess.Begin()
	waitStats(t, sess, 3*time.Second, "packets", func(st Stats) bool { return st.Packets > 0 })
	c.Close()
	select {
	case <-sess.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end")
	}
	if sess.Err() == nil {
		t.Error("no error after the platform hung up")
	}
}

func TestStartErrors(t *testing.T) {
	s := &Sender{BindIP: testHost}
	ctx := context.Background()
	cases := []struct {
		name string
		s    *Sender
		req  Request
		want error
	}{
		{"mode", s, Request{Mode: "Talk", Transport: TransportUDP, RemoteAddr: "127.0.0.1:9"}, ErrBadRequest},
		{"transport", s, Request{Mode: ModePlay, Transport: "sctp", RemoteAddr: "127.0.0.1:9"}, ErrBadRequest},
		{"remote", s, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: "127.0.0.1"}, ErrBadRequest},
		{"clip set", &Sender{BindIP: testHost, Clips: "mjpeg"}, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: "127.0.0.1:9"}, ErrUnknownClipSet},
		{"bind", &Sender{BindIP: "localhost"}, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: "127.0.0.1:9"}, ErrBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.s.Start(ctx, c.req); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Start(canceled, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: "127.0.0.1:9"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: %v", err)
	}
}

func TestSenderClose(t *testing.T) {
	checkGoroutines(t)
	rx := newUDPReceiver(t)
	s := &Sender{BindIP: testHost, ChannelClips: map[string]string{"34020000001320000002": ClipSetH265AAC}}
	ctx := context.Background()
	var sessions []*Session
	for i, tr := range []string{TransportUDP, TransportTCPActive, TransportTCPPassive, TransportUDP} {
		ch := "34020000001320000001"
		if i == 3 {
			ch = "34020000001320000002"
		}
		sess, err := s.Start(ctx, Request{ChannelID: ch, Mode: ModePlay, Transport: tr, RemoteAddr: rx.addr, SSRC: uint32(i)})
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, sess)
	}
	sessions[0].Begin()
	sessions[3].Begin()
	sessions[2].Begin() // dials a UDP-only address: retries until closed
	if got := len(s.Sessions()); got != 4 {
		t.Fatalf("Sessions() = %d", got)
	}
	if sessions[3].cs.videoCodec != unit.CodecH265 || sessions[0].cs.videoCodec != unit.CodecH264 {
		t.Error("ChannelClips not applied")
	}
	waitStats(t, sessions[3], 3*time.Second, "packets", func(st Stats) bool { return st.Packets > 0 })
	sessions[1].Close()
	if got := len(s.Sessions()); got != 3 {
		t.Fatalf("Sessions() after one Close = %d", got)
	}
	s.Close()
	for i, sess := range sessions {
		select {
		case <-sess.Done():
		default:
			t.Errorf("session %d not done after Sender.Close", i)
		}
		sess.Close() // twice is fine
	}
	if len(s.Sessions()) != 0 {
		t.Error("sessions left")
	}
	if _, err := s.Start(ctx, Request{Mode: ModePlay, Transport: TransportUDP, RemoteAddr: rx.addr}); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}
