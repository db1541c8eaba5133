package hls

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
)

// fakeHub starts a clip source for each Acquire, like media/hub starting a
// camera on demand, and counts acquisitions and releases.
type fakeHub struct {
	t      *testing.T
	source clipSource
	fail   error

	acquired, released atomic.Int32

	mu      sync.Mutex
	streams []*stream.Stream
}

func (h *fakeHub) Acquire(ctx context.Context, name string) (*stream.Stream, func(), error) {
	if h.fail != nil {
		return nil, nil, h.fail
	}
	s := stream.New(name, 0, testLogger(h.t))
	srcCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	src := h.source
	go func() {
		defer close(done)
		src.run(srcCtx, h.t, s)
	}()
	release := sync.OnceFunc(func() {
		cancel()
		<-done
		s.Close()
		h.released.Add(1)
	})
	if err := s.WaitReady(ctx); err != nil {
		release()
		return nil, nil, err
	}
	h.acquired.Add(1)
	h.mu.Lock()
	h.streams = append(h.streams, s)
	h.mu.Unlock()
	return s, release, nil
}

// lastStream returns the stream of the latest Acquire.
func (h *fakeHub) lastStream() *stream.Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams[len(h.streams)-1]
}

// hlsServer is a Manager behind a real HTTP server on 127.0.0.1.
type hlsServer struct {
	t   *testing.T
	m   *Manager
	hub *fakeHub
	url string
}

func newHLSServer(t *testing.T, hub *fakeHub, configure func(*Manager)) *hlsServer {
	t.Helper()
	checkGoroutines(t)
	hub.t = t
	m := &Manager{
		SegmentDuration: time.Second,
		SegmentCount:    7,
		IdleTimeout:     time.Minute,
		Acquire:         hub.Acquire,
		Logger:          testLogger(t),
	}
	if configure != nil {
		configure(m)
	}
	if err := m.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hls/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		m.ServeHTTP(w, r, r.PathValue("name"), r.PathValue("file"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		m.Close()
	})
	return &hlsServer{t: t, m: m, hub: hub, url: srv.URL + "/hls/"}
}

func (s *hlsServer) get(path string) (int, []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, b
}

func (s *hlsServer) headers(path string) http.Header {
	s.t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header
}

func (s *hlsServer) mustGet(path string) []byte {
	s.t.Helper()
	code, b := s.get(path)
	if code != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	return b
}

func (s *hlsServer) running() int {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return len(s.m.muxers)
}

func multivariant(t *testing.T, b []byte) *playlist.Multivariant {
	t.Helper()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("playlist: %v\n%s", err, b)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok {
		t.Fatalf("got %T, want a multivariant playlist", pl)
	}
	return mv
}

func media(t *testing.T, b []byte) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("playlist: %v\n%s", err, b)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("got %T, want a media playlist", pl)
	}
	return m
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestManagerServesHLS(t *testing.T) {
	video := loadVideo(t, testsrc.ClipH264)
	hub := &fakeHub{source: clipSource{Video: video, Audio: loadAudio(t, testsrc.ClipAAC), Speed: 1}}
	srv := newHLSServer(t, hub, func(m *Manager) { m.IdleTimeout = 2 * time.Second })

	// The first request waits for the first segments instead of failing.
	mv := multivariant(t, srv.mustGet("cam1/index.m3u8"))
	if len(mv.Variants) != 1 {
		t.Fatalf("%d variants", len(mv.Variants))
	}
	v := mv.Variants[0]
	wantCodecs := []string{fmt.Sprintf("avc1.%x", video.SPS[1:4]), "mp4a.40.2"}
	if strings.Join(v.Codecs, ",") != strings.Join(wantCodecs, ",") {
		t.Errorf("codecs %v, want %v", v.Codecs, wantCodecs)
	}
	if len(mv.Renditions) != 1 || mv.Renditions[0].URI == nil {
		t.Fatalf("want one audio rendition with its own playlist")
	}

	vpl := media(t, srv.mustGet("cam1/"+v.URI))
	if vpl.Map == nil || vpl.Map.URI == "" {
		t.Fatal("no EXT-X-MAP in the video playlist")
	}
	if len(vpl.Segments) < 2 {
		t.Fatalf("%d segments listed", len(vpl.Segments))
	}
	for _, seg := range vpl.Segments {
		if seg.Duration < 900*time.Millisecond || seg.Duration > 1100*time.Millisecond {
			t.Errorf("segment %s lasts %v, want about 1 s", seg.URI, seg.Duration)
		}
	}

	// Video init and first segment.
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(srv.mustGet("cam1/" + vpl.Map.URI))); err != nil {
		t.Fatal(err)
	}
	c, ok := init.Tracks[0].Codec.(*mp4codecs.H264)
	if !ok || !bytes.Equal(c.SPS, video.SPS) {
		t.Fatalf("video init: %T", init.Tracks[0].Codec)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(srv.mustGet("cam1/" + vpl.Segments[0].URI)); err != nil {
		t.Fatal(err)
	}
	first := parts[0].Tracks[0].Samples[0]
	au, err := first.GetH264()
	if err != nil || first.IsNonSyncSample || !h264.IsRandomAccess(au) {
		t.Fatalf("first sample of the first segment is not an IDR (%v)", err)
	}

	// Audio rendition.
	apl := media(t, srv.mustGet("cam1/"+*mv.Renditions[0].URI))
	init = fmp4.Init{}
	if err := init.Unmarshal(bytes.NewReader(srv.mustGet("cam1/" + apl.Map.URI))); err != nil {
		t.Fatal(err)
	}
	if a, ok := init.Tracks[0].Codec.(*mp4codecs.MPEG4Audio); !ok || a.Config.SampleRate != 44100 {
		t.Fatalf("audio init: %T", init.Tracks[0].Codec)
	}
	parts = nil
	if err := parts.Unmarshal(srv.mustGet("cam1/" + apl.Segments[0].URI)); err != nil {
		t.Fatal(err)
	}
	if n := len(parts[0].Tracks[0].Samples); n < 30 {
		t.Errorf("%d AAC samples in a 1 s segment", n)
	}

	if cc := srv.headers("cam1/index.m3u8").Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("multivariant playlist Cache-Control %q, want no-cache", cc)
	}

	// Files the muxer does not have.
	for _, f := range []string{"nope.mp4", "..", "x%2Fy.m3u8"} {
		if code, _ := srv.get("cam1/" + f); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", f, code)
		}
	}

	t.Run("ffprobe", func(t *testing.T) {
		ffprobe := requireTool(t, "ffprobe")
		out, err := exec.Command(ffprobe, "-v", "error", "-rw_timeout", "10000000",
			"-show_entries", "stream=codec_name", "-of", "csv=p=0", srv.url+"cam1/index.m3u8").CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		// HLS input lists its streams under a program as well: count kinds.
		got := make(map[string]bool)
		for _, f := range strings.Fields(string(out)) {
			got[f] = true
		}
		if len(got) != 2 || !got["h264"] || !got["aac"] {
			t.Errorf("ffprobe streams %q, want h264 and aac", out)
		}
	})

	if n := hub.acquired.Load(); n != 1 {
		t.Errorf("stream acquired %d times for many requests, want 1", n)
	}
	if n := srv.hub.lastStream().Readers(); n != 1 {
		t.Errorf("%d readers on the stream, want 1 for all viewers", n)
	}

	// Idle: with no request the muxer stops and releases the stream.
	waitFor(t, 10*time.Second, "the idle muxer to stop", func() bool {
		return hub.released.Load() == 1 && srv.running() == 0
	})
	// The next request starts it again.
	srv.mustGet("cam1/index.m3u8")
	if n := hub.acquired.Load(); n != 2 {
		t.Errorf("stream acquired %d times, want 2", n)
	}
}

func TestManagerH265(t *testing.T) {
	video := loadVideo(t, testsrc.ClipH265)
	hub := &fakeHub{source: clipSource{Video: video, Audio: loadAudio(t, testsrc.ClipPCMA), Speed: 2}}
	srv := newHLSServer(t, hub, nil)

	mv := multivariant(t, srv.mustGet("cam1/index.m3u8"))
	if codecs := mv.Variants[0].Codecs; len(codecs) != 1 || !strings.HasPrefix(codecs[0], "hvc1.") {
		t.Fatalf("codecs %v, want H.265 alone (G.711 left out)", codecs)
	}
	pl := media(t, srv.mustGet("cam1/"+mv.Variants[0].URI))
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(srv.mustGet("cam1/" + pl.Map.URI))); err != nil {
		t.Fatal(err)
	}
	if c, ok := init.Tracks[0].Codec.(*mp4codecs.H265); !ok || !bytes.Equal(c.SPS, video.SPS) {
		t.Fatalf("init: %T", init.Tracks[0].Codec)
	}
}

func TestManagerAcquireFails(t *testing.T) {
	hub := &fakeHub{fail: errors.New("camera offline")}
	srv := newHLSServer(t, hub, nil)

	code, b := srv.get("cam1/index.m3u8")
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code != http.StatusServiceUnavailable || json.Unmarshal(b, &body) != nil ||
		body.Error.Code != "stream_unavailable" || !strings.Contains(body.Error.Message, "camera offline") {
		t.Fatalf("got %d %s", code, b)
	}
	// A segment of a stream that is not running is simply unknown: it does
	// not start the stream.
	if code, _ := srv.get("cam2/abc_video1_seg3.mp4"); code != http.StatusNotFound {
		t.Errorf("segment of a stopped stream: %d, want 404", code)
	}
	if srv.running() != 0 {
		t.Errorf("%d muxers left after failures", srv.running())
	}
}

func TestManagerStreamEnds(t *testing.T) {
	hub := &fakeHub{source: clipSource{Video: loadVideo(t, testsrc.ClipH264), Speed: 4}}
	srv := newHLSServer(t, hub, nil)

	srv.mustGet("cam1/index.m3u8")
	hub.lastStream().Close()
	waitFor(t, 5*time.Second, "the muxer of an ended stream to stop", func() bool {
		return srv.running() == 0 && hub.released.Load() == 1
	})
	srv.mustGet("cam1/index.m3u8")
	if n := hub.acquired.Load(); n != 2 {
		t.Errorf("acquired %d times, want 2", n)
	}
}

func TestManagerParamsChange(t *testing.T) {
	hub := &fakeHub{source: clipSource{
		Video: loadVideo(t, testsrc.ClipH264), Audio: loadAudio(t, testsrc.ClipAAC), Speed: 4,
		SwitchAt: 4 * time.Second, SwitchTo: loadVideo(t, testsrc.ClipH265),
	}}
	srv := newHLSServer(t, hub, nil)

	mv := multivariant(t, srv.mustGet("cam1/index.m3u8"))
	if !strings.HasPrefix(mv.Variants[0].Codecs[0], "avc1.") {
		t.Fatalf("codecs %v before the switch", mv.Variants[0].Codecs)
	}
	waitFor(t, 10*time.Second, "the playlist to show H.265", func() bool {
		mv := multivariant(t, srv.mustGet("cam1/index.m3u8"))
		return strings.HasPrefix(mv.Variants[0].Codecs[0], "hvc1.")
	})
	if n := hub.acquired.Load(); n != 1 {
		t.Errorf("acquired %d times, want 1: a codec change restarts the muxer, not the stream", n)
	}
}

func TestManagerClose(t *testing.T) {
	hub := &fakeHub{source: clipSource{Video: loadVideo(t, testsrc.ClipH264), Speed: 4}}
	srv := newHLSServer(t, hub, nil)

	srv.mustGet("cam1/index.m3u8")
	srv.mustGet("cam2/index.m3u8")

	// A request waiting for a muxer that will never be ready.
	slow := &fakeHub{t: t, source: clipSource{Video: loadVideo(t, testsrc.ClipH264), Speed: 0.01}}
	srv.m.Acquire = func(ctx context.Context, name string) (*stream.Stream, func(), error) {
		if name == "slow" {
			return slow.Acquire(ctx, name)
		}
		return hub.Acquire(ctx, name)
	}
	codes := make(chan int, 1)
	go func() {
		code, _ := srv.get("slow/index.m3u8")
		codes <- code
	}()
	waitFor(t, 5*time.Second, "the slow stream to start", func() bool { return slow.acquired.Load() == 1 })

	srv.m.Close()
	if code := <-codes; code != http.StatusServiceUnavailable {
		t.Errorf("request in flight during Close: %d, want 503", code)
	}
	if a, r := hub.acquired.Load(), hub.released.Load(); a != 2 || r != 2 {
		t.Errorf("acquired %d, released %d", a, r)
	}
	if slow.released.Load() != 1 {
		t.Errorf("slow stream not released")
	}
	if code, _ := srv.get("cam1/index.m3u8"); code != http.StatusServiceUnavailable {
		t.Errorf("request after Close: %d, want 503", code)
	}
	// checkGoroutines (registered by newHLSServer) checks that nothing is left.
}

func TestInitializeValidates(t *testing.T) {
	if err := (&Manager{}).Initialize(); err == nil {
		t.Error("Initialize without Acquire succeeded")
	}
	m := &Manager{SegmentCount: 2, Acquire: (&fakeHub{}).Acquire}
	if err := m.Initialize(); err == nil {
		t.Error("Initialize with 2 segments succeeded")
	}
}

func TestTimestamp(t *testing.T) {
	cases := []struct {
		d    time.Duration
		rate int
		want int64
	}{
		{0, 90000, 0},
		{40 * time.Millisecond, 90000, 3600},
		{5 * 1024 * time.Second / 44100, 44100, 5 * 1024},
		{90 * 24 * time.Hour, 90000, 90 * 24 * 3600 * 90000},
	}
	for _, tc := range cases {
		if got := timestamp(tc.d, tc.rate); got != tc.want {
			t.Errorf("timestamp(%v, %d) = %d, want %d", tc.d, tc.rate, got, tc.want)
		}
	}
}
