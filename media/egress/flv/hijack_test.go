package flv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// lockedBuffer collects net/http's error log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newRawServer serves h on 127.0.0.1 and fails the test if net/http logs
// anything (a WriteHeader on a hijacked connection, say).
func newRawServer(t *testing.T, h http.Handler) *httptest.Server {
	var errLog lockedBuffer
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(&errLog, "", 0)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if s := errLog.String(); s != "" {
			t.Errorf("net/http logged: %s", s)
		}
	})
	return srv
}

// rawGet sends a GET in the given protocol version on a new connection and
// reads the response header; head is the header as it came.
func rawGet(t *testing.T, addr, proto string) (head string, resp *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /live/cam.flv %s\r\nHost: %s\r\nOrigin: https://console.example\r\n\r\n", proto, addr)
	var raw lockedBuffer
	resp, err = http.ReadResponse(bufio.NewReader(io.TeeReader(conn, &raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ = strings.Cut(raw.String(), "\r\n\r\n")
	return head + "\r\n", resp
}

// TestServeHTTPTakeover checks the response of a taken-over connection:
// the headers the middleware set, no chunking, the body ended by closing
// the connection; for HTTP/1.1 and HTTP/1.0 clients, and through gin, whose
// writer sits between the handler and net/http in the nvr.
func TestServeHTTPTakeover(t *testing.T) {
	cors := func(h http.Header) {
		h.Set("Access-Control-Allow-Origin", "https://console.example")
		h.Add("Vary", "Origin")
	}
	handlers := map[string]func(s *stream.Stream, status chan<- int) http.Handler{
		"net/http": func(s *stream.Stream, status chan<- int) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				cors(w.Header())
				ServeHTTP(w, r, s, nil)
				status <- 0
			})
		},
		"gin": func(s *stream.Stream, status chan<- int) http.Handler {
			gin.SetMode(gin.ReleaseMode)
			g := gin.New()
			g.Use(func(c *gin.Context) { // like web's cors and accessLog
				cors(c.Writer.Header())
				c.Next()
				status <- c.Writer.Status()
			})
			g.GET("/live/:stream", func(c *gin.Context) { ServeHTTP(c.Writer, c.Request, s, nil) })
			return g
		},
	}
	for name, handler := range handlers {
		for _, proto := range []string{"HTTP/1.1", "HTTP/1.0"} {
			t.Run(name+" "+proto, func(t *testing.T) {
				checkGoroutines(t)
				c := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
				s := stream.New("cam", 0, testLogger(t))
				p := c.newPublisher(s)
				mid := c.index(0, 2400*time.Millisecond)
				c.publish(p, 0, mid)
				status := make(chan int, 1)
				srv := newRawServer(t, handler(s, status))

				head, resp := rawGet(t, srv.Listener.Addr().String(), proto)
				if !strings.HasPrefix(head, proto+" 200 OK\r\n") || !strings.Contains(head, "\r\nConnection: close\r\n") {
					t.Errorf("response header:\n%s", head)
				}
				if resp.StatusCode != http.StatusOK || resp.Proto != proto {
					t.Fatalf("status %q, proto %s", resp.Status, resp.Proto)
				}
				h := resp.Header
				for k, v := range map[string]string{
					"Content-Type": "video/x-flv", "Cache-Control": "no-cache",
					"Access-Control-Allow-Origin": "https://console.example", "Vary": "Origin",
				} {
					if got := h.Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				// resp.Close is "Connection: close", which the parser removes.
				if h.Get("Date") == "" || len(resp.TransferEncoding) != 0 || resp.ContentLength != -1 || !resp.Close {
					t.Errorf("framing: %v, transfer encoding %v, length %d", h, resp.TransferEncoding, resp.ContentLength)
				}

				c.publish(p, mid, len(c.units))
				s.Close()
				hd, tags, err := readTags(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				checkOutput(t, c, hd, tags, c.index(0, 2*time.Second))
				if st := <-status; name == "gin" && st != http.StatusOK {
					t.Errorf("gin recorded status %d", st)
				}
			})
		}
	}
}

// TestServeHTTPSameBytes checks that the vectored writes of a taken-over
// connection carry the same bytes as Serve, including a late unit whose
// timestamp is raised and a codec change, and that raising a timestamp
// leaves the tags shared with other viewers untouched.
func TestServeHTTPSameBytes(t *testing.T) {
	checkGoroutines(t)
	small := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
	hd := loadClip(t, testsrc.ClipH264HD, "")
	s := stream.New("cam", 0, testLogger(t))
	var direct bytes.Buffer
	errc := make(chan error, 1)
	go func() { errc <- Serve(context.Background(), &direct, s, Options{}) }()
	srv := newRawServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeHTTP(w, r, s, testLogger(t))
	}))
	bodyc := make(chan []byte, 1)
	go func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			bodyc <- nil
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		bodyc <- b
	}()
	waitFor(t, "both viewers", func() bool { return s.Readers() == 2 })

	ms := time.Millisecond
	p := small.newPublisher(s)
	key, inter := small.units[0].Data, small.units[2].Data
	aac := [][]byte{{0x21, 0x10, 0x04}}
	write := func(track int, dts time.Duration, k bool, data [][]byte) *unit.Unit {
		u := &unit.Unit{Track: track, DTS: dts, PTS: dts, Key: k, Data: data}
		p.Write(u)
		return u
	}
	write(0, 0, true, key)
	write(1, 10*ms, true, aac)
	write(0, 40*ms, false, inter)
	write(0, 80*ms, false, inter)
	late := write(1, 33*ms, true, aac)
	write(1, 56*ms, true, aac) // two late tags in a row
	write(0, 120*ms, false, inter)
	p.SetTrack(0, hd.vp)
	write(0, 160*ms, true, hd.units[0].Data)
	write(1, 170*ms, true, aac)
	s.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	body := <-bodyc
	if !bytes.Equal(body, direct.Bytes()) {
		t.Fatalf("HTTP body (%d bytes) differs from Serve's output (%d bytes)", len(body), direct.Len())
	}
	_, tags, err := readTags(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, tag := range tags[1:] {
		got = append(got, tag.Timestamp)
	}
	want := []uint32{0, 0, 0, 10, 40, 80, 80, 80, 120, 160, 160, 170}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("timestamps %v, want %v", got, want)
	}
	_, shared, err := readTags(bytes.NewReader(append(flvcodec.Header{}.Append(nil), flvcodec.UnitTags(late)...)))
	if err != nil || len(shared) != 1 || shared[0].Timestamp != 33 {
		t.Fatalf("the shared tags of the late unit were changed: %v %+v", err, shared)
	}
}

// TestServeHTTPStalledViewer checks that a viewer that stops reading is cut
// off after the write timeout.
func TestServeHTTPStalledViewer(t *testing.T) {
	checkGoroutines(t)
	c := loadClip(t, testsrc.ClipH264HD, "")
	s := stream.New("cam", 0, nil)
	defer s.Close()
	p := c.newPublisher(s)
	c.publish(p, 0, 1)
	done := make(chan struct{})
	srv := newRawServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpServer{writeTimeout: 200 * time.Millisecond}.serve(w, r, s, testLogger(t))
		close(done)
	}))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	began := time.Now()
	for i := 1; ; i++ {
		select {
		case <-done:
			if n := s.Readers(); n != 0 {
				t.Fatalf("%d readers left", n)
			}
			t.Logf("cut off after %v", time.Since(began).Round(time.Millisecond))
			return
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(began) > 20*time.Second {
			t.Fatal("a viewer that does not read is still served")
		}
		// Fresh units with rising timestamps; the ring keeps the viewer's
		// reader supplied whatever it skips.
		u := c.units[i%len(c.units)]
		dts := time.Duration(i) * 40 * time.Millisecond
		p.Write(&unit.Unit{Track: 0, DTS: dts, PTS: dts, Key: u.Key, Data: u.Data})
	}
}

// TestWriteDeadline checks that every write has at least the timeout ahead
// of it while the deadline is set at most once per slack.
func TestWriteDeadline(t *testing.T) {
	var set deadlineRecorder
	d := writeDeadline{timeout: 50 * time.Millisecond, slack: 10 * time.Millisecond}
	began := time.Now()
	calls := 0
	for time.Since(began) < 100*time.Millisecond {
		before := time.Now() // a write starting now gets the whole timeout
		if err := d.extend(&set); err != nil {
			t.Fatal(err)
		}
		if left := set.at.Sub(before); left < d.timeout {
			t.Fatalf("only %v left before the deadline", left)
		}
		calls++
		time.Sleep(100 * time.Microsecond)
	}
	// Once at the start, then at most once per slack (timer slop aside).
	if max := int(time.Since(began)/d.slack) + 2; set.n > max || set.n >= calls {
		t.Fatalf("deadline set %d times for %d writes", set.n, calls)
	}
}

type deadlineRecorder struct {
	n  int
	at time.Time
}

func (r *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	r.n++
	r.at = t
	return nil
}

// writeRecorder records each Write and signals it.
type writeRecorder struct {
	mu     sync.Mutex
	writes [][]byte
	wrote  chan struct{}
}

func newWriteRecorder() *writeRecorder { return &writeRecorder{wrote: make(chan struct{}, 1000)} }

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, bytes.Clone(p))
	w.mu.Unlock()
	w.wrote <- struct{}{}
	return len(p), nil
}

// tags returns the tag types of write i.
func (w *writeRecorder) tags(t *testing.T, i int) string {
	t.Helper()
	w.mu.Lock()
	b := w.writes[i]
	w.mu.Unlock()
	if i > 0 { // the first write starts with the file header
		b = append(flvcodec.Header{}.Append(nil), b...)
	}
	_, tags, err := readTags(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("write %d: %v", i, err)
	}
	var s strings.Builder
	for _, tag := range tags {
		s.WriteByte(tag.Type.String()[0])
	}
	return s.String()
}

func (w *writeRecorder) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-w.wrote:
	case <-time.After(waitTimeout):
		t.Fatalf("no write: %s", what)
	}
}

// TestServeBatching checks that audio waits for the next video frame, so
// that a viewer gets one write per frame; that it does not wait when the
// stream has no video or its video stalls; and that audio held when the
// stream closes is written.
func TestServeBatching(t *testing.T) {
	c := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
	key, inter, aac := c.units[0].Data, c.units[2].Data, [][]byte{{0x21, 0x10, 0x04}}
	ms := time.Millisecond
	start := func(t *testing.T, audioOnly bool) (*stream.Publisher, *writeRecorder, func()) {
		checkGoroutines(t)
		s := stream.New("cam", 0, nil)
		p := s.NewPublisher()
		if !audioOnly {
			p.SetTrack(0, c.vp)
		}
		p.SetTrack(1, c.ap)
		w := newWriteRecorder()
		errc := make(chan error, 1)
		go func() { errc <- Serve(context.Background(), w, s, Options{}) }()
		waitFor(t, "the reader", func() bool { return s.Readers() == 1 })
		return p, w, func() {
			s.Close()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(p *stream.Publisher, track int, dts time.Duration, k bool, data [][]byte) {
		p.Write(&unit.Unit{Track: track, DTS: dts, PTS: dts, Key: k, Data: data})
	}

	t.Run("one write per frame", func(t *testing.T) {
		p, w, end := start(t, false)
		write(p, 0, 0, true, key)
		w.wait(t, "start")
		w.wait(t, "keyframe")
		for i := 1; i <= 10; i++ {
			dts := time.Duration(i) * 40 * ms
			write(p, 1, dts-30*ms, true, aac)
			time.Sleep(time.Millisecond) // the reader wakes for each unit
			write(p, 1, dts-10*ms, true, aac)
			time.Sleep(time.Millisecond)
			write(p, 0, dts, false, inter)
			w.wait(t, fmt.Sprintf("frame %d", i))
		}
		write(p, 1, 420*ms, true, aac)
		end()
		want := []string{"sva" /* header, metadata, sequence headers */, "v"}
		for range 10 {
			want = append(want, "aav")
		}
		want = append(want, "a") // held when the stream closed
		for i, wt := range want {
			if got := w.tags(t, i); got != wt {
				t.Errorf("write %d holds %q, want %q", i, got, wt)
			}
		}
		if len(w.writes) != len(want) {
			t.Errorf("%d writes, want %d", len(w.writes), len(want))
		}
	})

	t.Run("audio only", func(t *testing.T) {
		p, w, end := start(t, true)
		for i := range 5 {
			write(p, 1, time.Duration(i)*23*ms, true, aac)
			if i == 0 {
				w.wait(t, "start")
			}
			w.wait(t, fmt.Sprintf("audio %d", i)) // not held
		}
		end()
	})

	t.Run("video stalls", func(t *testing.T) {
		p, w, end := start(t, false)
		write(p, 0, 0, true, key)
		w.wait(t, "start")
		w.wait(t, "keyframe")
		// Audio alone, for up to 2 s: it must flow in writes of about
		// maxHold each, not wait for a video frame that does not come.
		began := time.Now()
		wrote := 0
		for i := 1; wrote < 3 && time.Since(began) < 2*time.Second; i++ {
			write(p, 1, time.Duration(i)*20*ms, true, aac)
			time.Sleep(20 * time.Millisecond)
			for len(w.wrote) > 0 {
				<-w.wrote
				wrote++
			}
		}
		if wrote < 3 {
			t.Fatalf("%d writes of audio in %v without video", wrote, time.Since(began))
		}
		end()
		for i := 2; i < len(w.writes); i++ {
			if got := w.tags(t, i); strings.Trim(got, "a") != "" {
				t.Errorf("write %d holds %q", i, got)
			}
		}
	})
}

// TestServeHTTP2 checks the path through net/http where the connection
// cannot be taken over.
func TestServeHTTP2(t *testing.T) {
	checkGoroutines(t)
	c := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
	s := stream.New("cam", 0, testLogger(t))
	p := c.newPublisher(s)
	c.publish(p, 0, 10)
	done := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeHTTP(w, r, s, testLogger(t))
		done <- struct{}{}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/x-flv" {
		t.Fatalf("%s %s %v", resp.Proto, resp.Status, resp.Header)
	}
	c.publish(p, 10, len(c.units))
	s.Close()
	h, tags, err := readTags(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, c, h, tags, 0)
	<-done
}
