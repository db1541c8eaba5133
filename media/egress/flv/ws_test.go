package flv

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// newWSServer serves s as WS-FLV on 127.0.0.1 with the given keepalive
// (zero: the production one). done receives when the handler has returned.
func newWSServer(t *testing.T, s *stream.Stream, ws wsServer) (url string, done chan struct{}) {
	if ws.ping == 0 {
		ws = wsServer{ping: pingInterval, pongWait: pongWait}
	}
	done = make(chan struct{}, 10)
	log := testLogger(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws.serve(w, r, s, log)
		done <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), done
}

func dialWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	// A foreign Origin: viewers are authorized by token, any origin goes.
	c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://console.example"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

func TestServeWS(t *testing.T) {
	for _, cc := range clipCases {
		t.Run(cc.video+"+"+cc.audio, func(t *testing.T) {
			checkGoroutines(t)
			c := loadClip(t, cc.video, cc.audio)
			s := stream.New("cam", 0, testLogger(t))
			p := c.newPublisher(s)
			mid := c.index(0, 2400*time.Millisecond)
			c.publish(p, 0, mid)
			url, done := newWSServer(t, s, wsServer{})
			conn := dialWS(t, url)
			defer conn.Close()
			waitFor(t, "the reader", func() bool { return s.Readers() == 1 })
			c.publish(p, mid, len(c.units))
			s.Close()

			var msgs [][]byte
			for {
				typ, msg, err := conn.ReadMessage()
				if err != nil {
					if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
						t.Fatalf("after %d messages: %v", len(msgs), err)
					}
					break
				}
				if typ != websocket.BinaryMessage {
					t.Fatalf("message type %d", typ)
				}
				msgs = append(msgs, msg)
			}
			if len(msgs) < 2 {
				t.Fatalf("%d messages", len(msgs))
			}
			// The first message is the header, metadata and sequence headers.
			_, first, err := readTags(bytes.NewReader(msgs[0]))
			if err != nil {
				t.Fatal(err)
			}
			wantFirst := 2
			if c.ap.Codec == unit.CodecAAC {
				wantFirst = 3
			}
			if len(first) != wantFirst {
				t.Fatalf("first message holds %d tags, want %d", len(first), wantFirst)
			}
			// Every other message is a whole number of tags.
			hdr := flvcodec.Header{}.Append(nil)
			for i, m := range msgs[1:] {
				if _, tags, err := readTags(bytes.NewReader(append(hdr, m...))); err != nil || len(tags) == 0 {
					t.Fatalf("message %d: %d tags, %v", i+1, len(tags), err)
				}
			}
			h, tags, err := readTags(bytes.NewReader(bytes.Join(msgs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			checkOutput(t, c, h, tags, c.index(0, 2*time.Second))
			<-done
		})
	}
}

// TestServeWSClientLeaves checks that a client that closes its connection
// ends Serve promptly.
func TestServeWSClientLeaves(t *testing.T) {
	checkGoroutines(t)
	c := loadClip(t, testsrc.ClipH264, testsrc.ClipAAC)
	s := stream.New("cam", 0, nil)
	defer s.Close()
	c.publish(c.newPublisher(s), 0, 30)
	url, done := newWSServer(t, s, wsServer{})
	conn := dialWS(t, url)
	if _, _, err := conn.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeWS still running after the client left")
	}
	if n := s.Readers(); n != 0 {
		t.Fatalf("%d readers left", n)
	}
}

// TestServeWSKeepalive checks that the server pings, and that a client that
// stops answering is dropped after pongWait.
func TestServeWSKeepalive(t *testing.T) {
	checkGoroutines(t)
	c := loadClip(t, testsrc.ClipH264, "")
	s := stream.New("cam", 0, nil)
	defer s.Close()
	c.publish(c.newPublisher(s), 0, 10)
	url, done := newWSServer(t, s, wsServer{ping: 20 * time.Millisecond, pongWait: 300 * time.Millisecond})

	// A live client answers pings (gorilla's default ping handler sends the
	// pong while the client reads) and stays connected.
	conn := dialWS(t, url)
	var pings atomic.Int32
	conn.SetPingHandler(func(data string) error {
		pings.Add(1)
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	time.Sleep(600 * time.Millisecond) // twice pongWait
	if n := pings.Load(); n < 5 {
		t.Fatalf("%d pings in 600 ms at a 20 ms interval", n)
	}
	if s.Readers() != 1 {
		t.Fatal("a client that answers pings was dropped")
	}
	conn.Close()
	<-readErr
	<-done

	// A client that never reads never answers: the server gives up.
	conn = dialWS(t, url)
	defer conn.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a client that does not answer pings is still served")
	}
}
