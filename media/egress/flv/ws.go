package flv

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/nvr/nvr/media/stream"
)

// WebSocket keepalive. Browsers answer pings by themselves; a client that
// misses two in a row is taken as gone (a NAT or proxy dropped it silently).
const (
	pingInterval = 20 * time.Second
	pongWait     = 2*pingInterval + 5*time.Second
	// maxClientMessage bounds what a client may send: WS-FLV clients send
	// nothing but control frames.
	maxClientMessage = 4096
)

// ServeWS upgrades the request to a WebSocket and serves s as WS-FLV: each
// FLV chunk is one binary message, the first holding the file header,
// onMetaData and the sequence headers, then one message per batch of tags.
// Any origin is accepted: viewers are authorized by token, not by origin.
func ServeWS(w http.ResponseWriter, r *http.Request, s *stream.Stream, log *slog.Logger) {
	wsServer{ping: pingInterval, pongWait: pongWait}.serve(w, r, s, log)
}

// wsServer holds the keepalive timing, shorter in tests.
type wsServer struct {
	ping, pongWait time.Duration
}

func (ws wsServer) serve(w http.ResponseWriter, r *http.Request, s *stream.Stream, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "flv", "stream", s.Name(), "remote", r.RemoteAddr, "proto", "ws")
	if s.Closed() {
		http.Error(w, "stream closed", http.StatusNotFound)
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize:  maxClientMessage,
		WriteBufferSize: 4096,
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already answered the client with an HTTP error.
		log.Debug("WebSocket upgrade failed", "error", err)
		return
	}
	log.Info("FLV viewer connected")

	// After the upgrade the server no longer watches the connection, so
	// the request's context does not end when the client leaves: the read
	// pump notices that and cancels ctx.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer cancel()
		ws.readPump(c)
	}()
	go func() {
		defer wg.Done()
		ws.pingLoop(ctx, c, cancel)
	}()

	err = Serve(ctx, &wsWriter{c: c, dl: newWriteDeadline(writeTimeout)}, s, Options{Logger: log})
	code, text := websocket.CloseNormalClosure, "stream ended"
	if err != nil {
		code, text = websocket.CloseGoingAway, ""
		if ctx.Err() == nil {
			log.Debug("WS-FLV write failed", "error", err)
		}
	}
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.Close()
	cancel()
	wg.Wait()
}

// readPump reads (and drops) what the client sends, so that control frames
// are processed, until the connection fails or closes.
func (ws wsServer) readPump(c *websocket.Conn) {
	c.SetReadLimit(maxClientMessage)
	_ = c.SetReadDeadline(time.Now().Add(ws.pongWait))
	c.SetPongHandler(func(string) error {
		return c.SetReadDeadline(time.Now().Add(ws.pongWait))
	})
	for {
		if _, _, err := c.NextReader(); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(ws.pongWait))
	}
}

// pingLoop pings the client every ws.ping until ctx ends. WriteControl may
// run concurrently with the data writes (gorilla/websocket's concurrency
// rules).
func (ws wsServer) pingLoop(ctx context.Context, c *websocket.Conn, cancel context.CancelFunc) {
	t := time.NewTicker(ws.ping)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				cancel()
				return
			}
		}
	}
}

// wsWriter sends each Write as one binary message. gorilla/websocket writes
// a server's whole message with one vectored write.
type wsWriter struct {
	c  *websocket.Conn
	dl writeDeadline
}

func (w *wsWriter) Write(p []byte) (int, error) {
	if err := w.dl.extend(w.c); err != nil {
		return 0, err
	}
	if err := w.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
