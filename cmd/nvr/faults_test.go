package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/testsrc"
)

// tagWatcher reads an FLV stream in the background and keeps count.
type tagWatcher struct {
	mu        sync.Mutex
	tags      int // media tags
	lastTS    uint32
	backwards string // the first timestamp that went backwards
	done      chan struct{}
	err       error // why reading ended
}

func watchTags(r io.Reader) *tagWatcher {
	w := &tagWatcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		fr := flvcodec.NewReader(r)
		for {
			tag, err := fr.ReadTag()
			if err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
			w.mu.Lock()
			if w.tags > 0 && flvcodec.TimestampBefore(tag.Timestamp, w.lastTS) && w.backwards == "" {
				w.backwards = fmt.Sprintf("%d ms after %d ms (tag %d)", tag.Timestamp, w.lastTS, w.tags)
			}
			if tag.Type != flvcodec.TagScript {
				w.tags++
				w.lastTS = tag.Timestamp
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *tagWatcher) state() (tags int, lastTS uint32, backwards string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tags, w.lastTS, w.backwards
}

func (w *tagWatcher) ended() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// TestCameraRestart drops the camera under a viewer and brings it back: the
// viewer's connection carries on with rising timestamps, and the channel
// goes through error back to online.
func TestCameraRestart(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	ta := startApp(t)
	_, ch := ta.addDevice("cam", src.URL("cam"))

	resp := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("FLV status %d", resp.StatusCode)
	}
	w := watchTags(resp.Body)
	eventually(t, "media before the camera drops", func() bool {
		n, _, _ := w.state()
		return n > 50 || w.ended()
	}, nil)
	ta.waitChannel(ch.ID, "status online", func(c channelJSON) bool { return c.Status == "online" })

	src.Close()
	ta.waitChannel(ch.ID, "status error while the camera is down", func(c channelJSON) bool {
		return c.Status == "error" && c.LastError != ""
	})
	if w.ended() {
		t.Fatalf("the viewer's connection ended when the camera dropped: %v", w.err)
	}
	tagsDown, tsDown, _ := w.state()

	if err := src.Restart(); err != nil {
		t.Fatal(err)
	}
	c := ta.waitChannel(ch.ID, "status online after the camera came back", func(c channelJSON) bool { return c.Status == "online" })
	t.Logf("back online: %+v", c)
	eventually(t, "media after the camera came back", func() bool {
		n, ts, _ := w.state()
		return w.ended() || n > tagsDown+50 && flvcodec.TimestampBefore(tsDown, ts)
	}, func() string {
		n, ts, _ := w.state()
		return fmt.Sprintf("%d tags (%d when down), last %d ms (%d when down)", n, tagsDown, ts, tsDown)
	})
	if w.ended() {
		t.Fatalf("the viewer's connection ended: %v", w.err)
	}
	if _, _, back := w.state(); back != "" {
		t.Errorf("timestamp went backwards: %s", back)
	}
	if n := src.Sessions(); n != 1 {
		t.Errorf("%d RTSP sessions after the restart, want 1", n)
	}
}

// TestUnreachableCamera checks the answer for a camera that refuses
// connections, and that a viewer waiting for a silent camera does not hold
// up the API.
func TestUnreachableCamera(t *testing.T) {
	t.Parallel()

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there any more

		ta := startApp(t)
		_, ch := ta.addDevice("gone", "rtsp://"+addr+"/cam")
		st, body := ta.do("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
		e := wantError(t, "FLV of a refusing camera", st, body, http.StatusServiceUnavailable, "stream_unavailable")
		if !strings.Contains(e.Error.Message, "refused") {
			t.Errorf("message %q does not say the connection was refused", e.Error.Message)
		}

		// An on-demand channel stops trying an idle timeout after its
		// viewer gave up; keep viewers coming while the status is polled.
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { retryViewer(ctx, ta.http, ta.playURL(ch.Play.FLV)) })
		defer func() { cancel(); wg.Wait() }()
		c := ta.waitChannel(ch.ID, "status error", func(c channelJSON) bool { return c.Status == "error" })
		if !strings.Contains(c.LastError, "refused") || !strings.Contains(c.LastError, "connect") {
			t.Errorf("last_error %q does not name the dial error", c.LastError)
		}
		var d deviceJSON
		ta.api("GET", fmt.Sprintf("/api/v1/devices/%d", ch.DeviceID), nil, http.StatusOK, &d)
		if d.LastError == "" {
			t.Errorf("device shows no last_error: %+v", d)
		}
	})

	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		bh := newBlackhole(t)
		// Long timeouts: the viewer waits until the camera hangs up, so
		// that the API calls below are known to happen meanwhile.
		ta := startApp(t, func(c *config.Config) {
			c.Media.StartTimeout = config.Duration(time.Minute)
			c.RTSP.ConnectTimeout = config.Duration(time.Minute)
			c.RTSP.ReadTimeout = config.Duration(time.Minute)
		})
		_, ch := ta.addDevice("silent", "rtsp://"+bh.addr()+"/cam")

		type answer struct {
			status int
			body   []byte
			err    error
		}
		done := make(chan answer, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", ta.playURL(ch.Play.FLV), nil)
			resp, err := ta.http.Do(req)
			if err != nil {
				done <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			done <- answer{resp.StatusCode, b, err}
		}()
		eventually(t, "the app to connect to the silent camera", func() bool { return bh.accepted() > 0 }, nil)
		ta.waitChannel(ch.ID, "status connecting", func(c channelJSON) bool { return c.Status == "connecting" })

		for range 3 {
			var l list[deviceJSON]
			ta.api("GET", "/api/v1/devices", nil, http.StatusOK, &l)
			if l.Total != 1 {
				t.Errorf("devices %+v", l)
			}
			ta.api("GET", "/api/v1/channels", nil, http.StatusOK, nil)
			ta.api("GET", "/api/v1/streams", nil, http.StatusOK, nil)
			ta.api("GET", "/api/v1/health", nil, http.StatusOK, nil)
		}
		select {
		case a := <-done:
			t.Fatalf("the viewer was answered before the camera hung up: %d %s %v", a.status, a.body, a.err)
		default:
		}

		bh.close() // the camera hangs up: the viewer gets its answer
		a := <-done
		if a.err != nil {
			t.Fatal(a.err)
		}
		var e apiError
		if a.status != http.StatusServiceUnavailable || json.Unmarshal(a.body, &e) != nil || e.Error.Code != "stream_unavailable" {
			t.Fatalf("viewer of a silent camera: %d %s", a.status, a.body)
		}
		t.Logf("viewer answer: %s", e.Error.Message)
	})
}

// retryViewer asks for an FLV stream again and again until ctx ends.
func retryViewer(ctx context.Context, c *http.Client, u string) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// blackhole is a TCP server that accepts connections and never answers,
// like a camera whose RTSP server hangs.
type blackhole struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	n      int
	closed bool
	wg     sync.WaitGroup
	once   sync.Once
}

func newBlackhole(t *testing.T) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			if b.closed {
				b.mu.Unlock()
				c.Close()
				return
			}
			b.conns = append(b.conns, c)
			b.n++
			b.mu.Unlock()
			b.wg.Go(func() { _, _ = io.Copy(io.Discard, c) })
		}
	})
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) addr() string { return b.ln.Addr().String() }

func (b *blackhole) accepted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// close stops listening and drops every connection.
func (b *blackhole) close() {
	b.once.Do(func() {
		err := b.ln.Close()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			panic(err)
		}
		b.mu.Lock()
		b.closed = true
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
	})
	b.wg.Wait()
}
