package rtsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// waitTimeout bounds every wait on the real-time test server.
const waitTimeout = 15 * time.Second

// stopTimeout is how fast Run must return once its context is cancelled.
const stopTimeout = time.Second

// event is one report of a source.
type event struct {
	state stream.State
	err   error
}

// stateLog records what a source reports.
type stateLog struct {
	mu     sync.Mutex
	events []event
}

func (l *stateLog) report(s stream.State, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, event{s, err})
}

func (l *stateLog) snapshot() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event(nil), l.events...)
}

// wait returns the n-th (1-based) report of state s.
func (l *stateLog) wait(t *testing.T, s stream.State, n int) event {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		seen := 0
		for _, e := range l.snapshot() {
			if e.state == s {
				if seen++; seen == n {
					return e
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for state %q #%d; reports: %v", s, n, l.snapshot())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects a source's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// loopbackUDP binds the client's RTP/RTCP ports on 127.0.0.1 only.
func loopbackUDP(network, address string) (net.PacketConn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.ListenPacket(network, net.JoinHostPort(host, port))
}

// testSource returns a source for url with short timeouts and backoff.
func testSource(url, transport string, logs *logBuffer) *Source {
	return &Source{
		URL:            url,
		Transport:      transport,
		ConnectTimeout: 5 * time.Second,
		ReadTimeout:    3 * time.Second,
		BackoffMin:     50 * time.Millisecond,
		BackoffMax:     200 * time.Millisecond,
		Logger:         logs.logger(),
		listenPacket:   loopbackUDP,
	}
}

// running is a source started by start.
type running struct {
	states *stateLog
	st     *stream.Stream
	cancel context.CancelFunc
	done   chan error
}

// start runs src into a new stream; the source is stopped at cleanup.
func start(t *testing.T, src *Source) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{
		states: &stateLog{},
		st:     stream.New("test", 0, nil),
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { r.done <- src.Run(ctx, r.st, r.states.report) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the source and checks that Run returns nil promptly.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
		r.done <- nil // let a second stop return at once
	case <-time.After(stopTimeout):
		t.Errorf("Run did not return within %v of cancel", stopTimeout)
	}
}

// waitReady waits until a reader of st would start at a keyframe: the test
// server joins its loop anywhere in a GOP, up to a second before an IDR.
func waitReady(t *testing.T, st *stream.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := st.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
}

// readFor reads st for d, from its newest keyframe on, and returns the
// units, failing on any read error.
func readFor(t *testing.T, st *stream.Stream, d time.Duration) []*unit.Unit {
	t.Helper()
	waitReady(t, st)
	r := st.NewReader()
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var units []*unit.Unit
	for {
		batch, err := r.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return units
			}
			t.Fatalf("Read: %v", err)
		}
		units = append(units, batch...)
	}
}

// checkRising fails unless DTS rises strictly on every track.
func checkRising(t *testing.T, units []*unit.Unit) {
	t.Helper()
	last := map[int]time.Duration{}
	for i, u := range units {
		if prev, ok := last[u.Track]; ok && u.DTS <= prev {
			t.Fatalf("unit %d (track %d): DTS %v after %v", i, u.Track, u.DTS, prev)
		}
		if u.PTS < u.DTS {
			t.Fatalf("unit %d (track %d): PTS %v < DTS %v", i, u.Track, u.PTS, u.DTS)
		}
		last[u.Track] = u.DTS
	}
}

// split returns the video and audio units.
func split(units []*unit.Unit) (video, audio []*unit.Unit) {
	for _, u := range units {
		if u.IsVideo() {
			video = append(video, u)
		} else {
			audio = append(audio, u)
		}
	}
	return video, audio
}

func newServer(t *testing.T, cfg testsrc.ServerConfig, video, audio string) *testsrc.Server {
	t.Helper()
	srv, err := testsrc.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddStream("cam", loadVideo(t, video), loadAudio(t, audio))
	return srv
}

func checkConnectingThenOnline(t *testing.T, states *stateLog) {
	t.Helper()
	ev := states.snapshot()
	if len(ev) < 2 || ev[0].state != stream.StateConnecting || ev[1].state != stream.StateOnline {
		t.Fatalf("reports = %v, want connecting then online", ev)
	}
}

func TestSourceH264AAC(t *testing.T) {
	for _, tc := range []struct {
		transport string
		serverUDP bool
		want      string // transport the session ends up with
	}{
		{TransportTCP, false, TransportTCP},
		{TransportUDP, true, TransportUDP},
		{TransportAuto, true, TransportUDP},
		{TransportAuto, false, TransportTCP}, // the server refuses UDP (461)
	} {
		t.Run(fmt.Sprintf("%s/serverUDP=%v", tc.transport, tc.serverUDP), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, testsrc.ServerConfig{UDP: tc.serverUDP}, testsrc.ClipH264, testsrc.ClipAAC)
			var logs logBuffer
			r := start(t, testSource(srv.URL("cam"), tc.transport, &logs))
			r.states.wait(t, stream.StateOnline, 1)

			units := readFor(t, r.st, 2*time.Second)
			video, audio := split(units)
			if len(video) < 30 || len(audio) < 50 {
				t.Fatalf("in 2 s: %d video and %d audio units, want about 50 and 86", len(video), len(audio))
			}
			v := video[0]
			if !v.Key || v.Params.Codec != unit.CodecH264 || v.Params.SPS == nil || v.Params.PPS == nil ||
				v.Params.Width != 320 || v.Params.Height != 240 {
				t.Errorf("first video unit: Key %v, params %+v; want a 320x240 H264 keyframe", v.Key, v.Params)
			}
			a := audio[0].Params
			if a.Codec != unit.CodecAAC || a.SampleRate != 44100 || a.Channels != 1 || len(a.AudioConfig) == 0 {
				t.Errorf("audio params %+v, want AAC 44100 Hz mono", a)
			}
			checkRising(t, units)
			checkConnectingThenOnline(t, r.states)

			out := logs.String()
			if !strings.Contains(out, "component=rtsp") || !strings.Contains(out, "transport="+tc.want) {
				t.Errorf("log lacks component=rtsp or transport=%s:\n%s", tc.want, out)
			}
		})
	}
}

func TestSourceH265G711(t *testing.T) {
	for _, transport := range []string{TransportTCP, TransportUDP} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, testsrc.ServerConfig{UDP: true}, testsrc.ClipH265, testsrc.ClipPCMA)
			var logs logBuffer
			r := start(t, testSource(srv.URL("cam"), transport, &logs))
			r.states.wait(t, stream.StateOnline, 1)

			units := readFor(t, r.st, 2*time.Second)
			video, audio := split(units)
			if len(video) < 30 || len(audio) < 60 {
				t.Fatalf("in 2 s: %d video and %d audio units, want about 50 and 100", len(video), len(audio))
			}
			v := video[0]
			if !v.Key || v.Params.Codec != unit.CodecH265 || v.Params.VPS == nil || v.Params.SPS == nil ||
				v.Params.Width != 320 || v.Params.Height != 240 {
				t.Errorf("first video unit: Key %v, params %+v; want a 320x240 H265 keyframe", v.Key, v.Params)
			}
			a := audio[0].Params
			if a.Codec != unit.CodecPCMA || a.SampleRate != 8000 || a.Channels != 1 {
				t.Errorf("audio params %+v, want PCMA 8000 Hz mono", a)
			}
			if got := len(audio[0].Data[0]); got != 160 {
				t.Errorf("G.711 unit of %d samples, want 160 (20 ms)", got)
			}
			checkRising(t, units)
			checkConnectingThenOnline(t, r.states)
		})
	}
}

func TestSourceDigestAuth(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testsrc.ServerConfig{Username: "admin", Password: "s3cret"}, testsrc.ClipH264, testsrc.ClipAAC)
	withPass := func(pass string) string {
		return "rtsp://admin:" + pass + "@" + srv.Addr() + "/cam"
	}

	t.Run("wrong password", func(t *testing.T) {
		var logs logBuffer
		r := start(t, testSource(withPass("hunter2"), TransportTCP, &logs))
		ev := r.states.wait(t, stream.StateError, 1)
		if !errors.Is(ev.err, ErrUnauthorized) || !strings.Contains(ev.err.Error(), "authentication failed") {
			t.Errorf("error = %v, want an authentication failure", ev.err)
		}
		// The source keeps trying, and never shows the password.
		r.states.wait(t, stream.StateError, 2)
		r.stop(t)
		if out := logs.String(); strings.Contains(out, "hunter2") || !strings.Contains(out, "admin:***@") {
			t.Errorf("log leaks the password or does not show the redacted URL:\n%s", out)
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		var logs logBuffer
		r := start(t, testSource(srv.URL("cam"), TransportTCP, &logs))
		ev := r.states.wait(t, stream.StateError, 1)
		if !errors.Is(ev.err, ErrUnauthorized) || !strings.Contains(ev.err.Error(), "requires credentials") {
			t.Errorf("error = %v, want a missing-credentials failure", ev.err)
		}
	})

	t.Run("right password", func(t *testing.T) {
		var logs logBuffer
		r := start(t, testSource(withPass("s3cret"), TransportTCP, &logs))
		r.states.wait(t, stream.StateOnline, 1)
		checkConnectingThenOnline(t, r.states)
	})
}

func TestSourceReconnects(t *testing.T) {
	t.Parallel()
	srv := newServer(t, testsrc.ServerConfig{}, testsrc.ClipH264, testsrc.ClipAAC)
	var logs logBuffer
	r := start(t, testSource(srv.URL("cam"), TransportTCP, &logs))
	r.states.wait(t, stream.StateOnline, 1)

	// One reader follows the stream through the camera's restart.
	type result struct {
		units []*unit.Unit
		err   error
	}
	readCtx, stopReading := context.WithCancel(context.Background())
	defer stopReading()
	res := make(chan result, 1)
	waitReady(t, r.st)
	reader := r.st.NewReader()
	go func() {
		defer reader.Close()
		var out result
		for {
			batch, err := reader.Read(readCtx)
			if err != nil {
				if readCtx.Err() == nil {
					out.err = err
				}
				res <- out
				return
			}
			out.units = append(out.units, batch...)
		}
	}()

	time.Sleep(1500 * time.Millisecond)
	srv.Close()
	ev := r.states.wait(t, stream.StateError, 1)
	if ev.err == nil || !strings.HasPrefix(ev.err.Error(), "read: ") {
		t.Errorf("error after the camera closed = %v, want a read error", ev.err)
	}
	t.Logf("after close: %v", ev.err)
	restarted := time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	r.states.wait(t, stream.StateOnline, 2)
	time.Sleep(1500 * time.Millisecond)
	stopReading()
	out := <-res

	if out.err != nil {
		t.Fatalf("reader failed across the restart: %v", out.err)
	}
	checkRising(t, out.units)
	var before, after int
	params := map[int]*unit.Params{}
	for _, u := range out.units {
		if u.Time.Before(restarted) {
			before++
		} else {
			after++
		}
		// Same camera, same codecs: readers see no parameter change.
		if p, ok := params[u.Track]; ok && p != u.Params {
			t.Errorf("track %d: Params changed from %v to %v across the restart", u.Track, p, u.Params)
		}
		params[u.Track] = u.Params
	}
	if before < 20 || after < 20 {
		t.Fatalf("%d units before and %d after the restart, want both", before, after)
	}
}

func TestSourceUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var logs logBuffer
	began := time.Now()
	r := start(t, testSource("rtsp://"+addr+"/cam", TransportAuto, &logs))
	ev := r.states.wait(t, stream.StateError, 1)
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("error reported after %v, want at once", took)
	}
	want := "connect: dial tcp " + addr + ": connect: connection refused"
	if ev.err == nil || ev.err.Error() != want {
		t.Errorf("error = %v, want %q", ev.err, want)
	}
	// Retries with backoff, then stops promptly.
	r.states.wait(t, stream.StateError, 3)
	r.stop(t)
}

// blackhole accepts TCP connections and never answers, like a camera whose
// RTSP server hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestSourceConnectTimeout(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	src := testSource("rtsp://"+blackhole(t)+"/cam", TransportTCP, &logs)
	src.ConnectTimeout = 300 * time.Millisecond
	r := start(t, src)
	ev := r.states.wait(t, stream.StateError, 1)
	if ev.err == nil || ev.err.Error() != "connect: no answer from the camera within 300ms" {
		t.Errorf("error = %v, want a connect timeout", ev.err)
	}
}

func TestSourceStopsWhileConnecting(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	r := start(t, testSource("rtsp://"+blackhole(t)+"/cam", TransportTCP, &logs))
	r.states.wait(t, stream.StateConnecting, 1)
	time.Sleep(100 * time.Millisecond) // DESCRIBE is waiting for its answer
	r.stop(t)
	for _, e := range r.states.snapshot() {
		if e.state == stream.StateError {
			t.Errorf("cancel while connecting reported an error: %v", e.err)
		}
	}
}

func TestSourceInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, src := range []*Source{
		{URL: "http://10.0.0.1/cam"},
		{URL: "rtsp://10.0.0.1/cam", Transport: "quic"},
	} {
		var states stateLog
		err := src.Run(context.Background(), stream.New("x", 0, nil), states.report)
		if err == nil {
			t.Errorf("Run(%+v) = nil, want an error", src)
			continue
		}
		if ev := states.snapshot(); len(ev) != 1 || ev[0].state != stream.StateError {
			t.Errorf("reports = %v, want one error", ev)
		}
	}
}

// TestSourceNoGoroutineLeak is not parallel: it counts the process's goroutines.
func TestSourceNoGoroutineLeak(t *testing.T) {
	srv := newServer(t, testsrc.ServerConfig{UDP: true}, testsrc.ClipH264, testsrc.ClipAAC)
	hole := blackhole(t)
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	for _, tc := range []struct{ url, transport string }{
		{srv.URL("cam"), TransportTCP},
		{srv.URL("cam"), TransportUDP},
		{"rtsp://" + hole + "/cam", TransportAuto},
	} {
		var logs logBuffer
		ctx, cancel := context.WithCancel(context.Background())
		states := &stateLog{}
		done := make(chan error, 1)
		go func() {
			done <- testSource(tc.url, tc.transport, &logs).Run(ctx, stream.New("leak", 0, nil), states.report)
		}()
		if tc.url == srv.URL("cam") {
			states.wait(t, stream.StateOnline, 1)
		} else {
			states.wait(t, stream.StateConnecting, 1)
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: Run = %v", tc.transport, err)
			}
		case <-time.After(stopTimeout):
			t.Fatalf("%s: Run did not return within %v of cancel", tc.transport, stopTimeout)
		}
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, %d before:\n%s", n, baseline, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
