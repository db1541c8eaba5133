package fmp4

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/gorilla/websocket"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// wsClient is a viewer of a test server running ServeWS.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

// serveWS starts a server that streams s and a client connected to it.
func serveWS(t *testing.T, s *stream.Stream) *wsClient {
	t.Helper()
	log := testLogger(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeWS(w, r, s, log)
	}))
	t.Cleanup(srv.Close)
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) read() (int, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, b, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return typ, b
}

// readInit reads a TEXT init message and the init segment after it.
func (c *wsClient) readInit() (string, fmp4.Init, []byte) {
	c.t.Helper()
	typ, b := c.read()
	if typ != websocket.TextMessage {
		c.t.Fatalf("got message type %d, want TEXT init", typ)
	}
	var msg message
	if err := json.Unmarshal(b, &msg); err != nil || msg.Type != "init" {
		c.t.Fatalf("init message %s: %v", b, err)
	}
	typ, b = c.read()
	if typ != websocket.BinaryMessage {
		c.t.Fatalf("got message type %d after init, want BINARY", typ)
	}
	return msg.MIME, parseInit(c.t, b), b
}

func isKeyAU(init fmp4.Init, trackID int, s *fmp4.Sample) bool {
	var au h264.AVCC
	if err := au.Unmarshal(s.Payload); err != nil {
		return false
	}
	for _, tr := range init.Tracks {
		if tr.ID != trackID {
			continue
		}
		switch tr.Codec.(type) {
		case *mp4codecs.H264:
			return h264.IsRandomAccess(au)
		case *mp4codecs.H265:
			return h265.IsRandomAccess(au)
		}
	}
	return false
}

// checkFragments checks fragments against their init segment: sequence
// numbers rise, every track's decode times are contiguous, the first video
// sample is a keyframe. It returns the number of samples per track ID.
func checkFragments(t *testing.T, init fmp4.Init, frags [][]byte, lastSeq *uint32) map[int]int {
	t.Helper()
	counts := make(map[int]int)
	next := make(map[int]uint64)
	videoID := 0
	for _, tr := range init.Tracks {
		if tr.Codec.IsVideo() {
			videoID = tr.ID
		}
	}
	for i, b := range frags {
		parts := parseParts(t, b)
		if len(parts) != 1 {
			t.Fatalf("fragment %d holds %d parts", i, len(parts))
		}
		p := parts[0]
		if p.SequenceNumber <= *lastSeq {
			t.Fatalf("fragment %d: sequence number %d after %d", i, p.SequenceNumber, *lastSeq)
		}
		*lastSeq = p.SequenceNumber
		for _, tr := range p.Tracks {
			if n, ok := next[tr.ID]; ok && tr.BaseTime != n {
				t.Fatalf("fragment %d track %d: base time %d, want %d", i, tr.ID, tr.BaseTime, n)
			}
			if tr.ID == videoID && counts[tr.ID] == 0 {
				if tr.Samples[0].IsNonSyncSample || !isKeyAU(init, tr.ID, tr.Samples[0]) {
					t.Fatalf("first video sample is not a keyframe")
				}
			}
			n := tr.BaseTime
			for _, s := range tr.Samples {
				if s.Duration == 0 {
					t.Fatalf("fragment %d track %d: sample of zero duration", i, tr.ID)
				}
				n += uint64(s.Duration)
			}
			next[tr.ID] = n
			counts[tr.ID] += len(tr.Samples)
		}
	}
	return counts
}

// checkDecodable runs ffmpeg over init+fragments.
func checkDecodable(t *testing.T, init []byte, frags [][]byte) {
	t.Helper()
	ffmpeg := requireTool(t, "ffmpeg")
	file := filepath.Join(t.TempDir(), "out.mp4")
	buf := append([]byte(nil), init...)
	for _, f := range frags {
		buf = append(buf, f...)
	}
	if err := os.WriteFile(file, buf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
}

func TestServeWS(t *testing.T) {
	cases := []struct {
		name      string
		video     string
		audio     string
		mimeStart string
		tracks    int
	}{
		{"h264+aac", testsrc.ClipH264, testsrc.ClipAAC, `video/mp4; codecs="avc1.`, 2},
		{"h265+aac", testsrc.ClipH265, testsrc.ClipAAC, `video/mp4; codecs="hvc1.`, 2},
		{"h264+g711", testsrc.ClipH264, testsrc.ClipPCMA, `video/mp4; codecs="avc1.`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			video := loadVideo(t, tc.video)
			s := stream.New("cam1", 0, testLogger(t))
			t.Cleanup(s.Close)
			src := &clipSource{Video: video, Audio: loadAudio(t, tc.audio), Speed: 4}
			src.start(t, s)

			c := serveWS(t, s)
			mime, init, initBytes := c.readInit()
			if !strings.HasPrefix(mime, tc.mimeStart) || strings.Count(mime, ",")+1 != tc.tracks {
				t.Errorf("mime %s", mime)
			}
			if len(init.Tracks) != tc.tracks {
				t.Fatalf("init has %d tracks, want %d", len(init.Tracks), tc.tracks)
			}
			var sps []byte
			switch c := init.Tracks[0].Codec.(type) {
			case *mp4codecs.H264:
				sps = c.SPS
			case *mp4codecs.H265:
				sps = c.SPS
			}
			if !bytes.Equal(sps, video.SPS) || init.Tracks[0].TimeScale != 90000 {
				t.Errorf("video track: SPS equal %v, timescale %d", bytes.Equal(sps, video.SPS), init.Tracks[0].TimeScale)
			}
			if tc.tracks == 2 && init.Tracks[1].TimeScale != 44100 {
				t.Errorf("audio timescale %d", init.Tracks[1].TimeScale)
			}

			// Read 60 fragments: 2.4 s of video.
			var frags [][]byte
			for len(frags) < 60 {
				typ, b := c.read()
				if typ != websocket.BinaryMessage {
					t.Fatalf("unexpected TEXT message %s", b)
				}
				frags = append(frags, b)
			}
			var seq uint32
			counts := checkFragments(t, init, frags, &seq)
			if counts[1] < 55 {
				t.Errorf("%d video samples in 60 fragments", counts[1])
			}
			if tc.tracks == 2 && counts[2] < 80 {
				t.Errorf("%d audio samples for 2.4 s", counts[2])
			}
			checkDecodable(t, initBytes, frags)
		})
	}
}

func TestServeWSParamsChange(t *testing.T) {
	checkGoroutines(t)
	s := stream.New("cam1", 0, testLogger(t))
	t.Cleanup(s.Close)
	src := &clipSource{
		Video: loadVideo(t, testsrc.ClipH264), Audio: loadAudio(t, testsrc.ClipAAC), Speed: 4,
		SwitchAt: 2 * time.Second, SwitchTo: loadVideo(t, testsrc.ClipH265),
	}
	src.start(t, s)

	c := serveWS(t, s)
	mime, init, _ := c.readInit()
	if !strings.Contains(mime, "avc1.") {
		t.Fatalf("first mime %s", mime)
	}
	var seq uint32
	var frags [][]byte
	for {
		typ, b := c.read()
		if typ == websocket.TextMessage {
			break
		}
		frags = append(frags, b)
	}
	checkFragments(t, init, frags, &seq)

	// The text message was read by the loop: read the init segment.
	typ, b := c.read()
	if typ != websocket.BinaryMessage {
		t.Fatal("no init segment after the second init message")
	}
	init2 := parseInit(t, b)
	if _, ok := init2.Tracks[0].Codec.(*mp4codecs.H265); !ok {
		t.Fatalf("second init: %T", init2.Tracks[0].Codec)
	}
	frags = frags[:0]
	for len(frags) < 30 {
		typ, b := c.read()
		if typ != websocket.BinaryMessage {
			t.Fatal("unexpected TEXT message")
		}
		frags = append(frags, b)
	}
	checkFragments(t, init2, frags, &seq)
}

func TestServeWSStreamEnd(t *testing.T) {
	checkGoroutines(t)
	s := stream.New("cam1", 0, testLogger(t))
	src := &clipSource{Video: loadVideo(t, testsrc.ClipH264), Audio: loadAudio(t, testsrc.ClipAAC), Speed: 4}
	src.start(t, s)
	if err := s.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}

	c := serveWS(t, s)
	c.readInit()
	c.read()
	s.Close()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.conn.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("read after stream end: %v, want close 1000", err)
		}
		return
	}
}

func TestServeWSNothingPlayable(t *testing.T) {
	checkGoroutines(t)
	s := stream.New("cam1", 0, testLogger(t))
	t.Cleanup(s.Close)
	pub := s.NewPublisher()
	pub.SetTrack(0, pcmaParams)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			d := time.Duration(i) * 20 * time.Millisecond
			pub.Write(&unit.Unit{Track: 0, DTS: d, PTS: d, Key: true, Data: [][]byte{make([]byte, 160)}})
			time.Sleep(20 * time.Millisecond)
		}
	}()

	c := serveWS(t, s)
	typ, b := c.read()
	var msg message
	if typ != websocket.TextMessage || json.Unmarshal(b, &msg) != nil || msg.Type != "error" {
		t.Fatalf("got %d %s, want an error message", typ, b)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseUnsupportedData) {
		t.Fatalf("after error message: %v, want close 1003", err)
	}
}

func TestServeWSViewerLeaves(t *testing.T) {
	checkGoroutines(t)
	s := stream.New("cam1", 0, testLogger(t))
	t.Cleanup(s.Close)
	src := &clipSource{Video: loadVideo(t, testsrc.ClipH264), Speed: 1}
	src.start(t, s)

	c := serveWS(t, s)
	c.readInit()
	c.conn.Close()
	// checkGoroutines verifies that ServeWS and its pumps returned.
	deadline := time.Now().Add(3 * time.Second)
	for s.Readers() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.Readers(); n != 0 {
		t.Fatalf("%d readers left after the viewer went", n)
	}
}
