package fmp4

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// WebSocket timing. Pings keep proxies from closing an idle-looking
// connection (many drop after 30–60 s without traffic) and detect a client
// that vanished without a close; a client that misses two pings is gone.
const (
	pingInterval = 20 * time.Second
	pongWait     = 2*pingInterval + 5*time.Second
	// writeTimeout bounds one message write. A client slower than that is
	// dropped; one merely slow falls behind and the reader skips ahead.
	writeTimeout = 10 * time.Second
	// maxClientMessage bounds what a client may send: it has nothing to say
	// but close and pong.
	maxClientMessage = 4096
)

// upgrader accepts any origin: viewers authenticate with a token in the URL,
// checked before ServeWS is called, not with cookies a foreign page could
// ride on.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 64 * 1024,
	CheckOrigin:     func(*http.Request) bool { return true },
}

// errViewerGone wraps a failed write to the viewer: a client that left or
// stalled, not a fault of ours.
var errViewerGone = errors.New("writing to viewer")

// message is a TEXT message of the protocol (see the package doc).
type message struct {
	Type    string `json:"type"`
	MIME    string `json:"mime,omitempty"`
	Message string `json:"message,omitempty"`
}

// ServeWS upgrades the request to a WebSocket and streams s to it as
// fragmented MP4 for MSE until the client leaves or the stream ends. It
// returns when the connection is closed and every goroutine it started has
// ended. Authentication is the caller's job.
func ServeWS(w http.ResponseWriter, r *http.Request, s *stream.Stream, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "fmp4ws", "stream", s.Name(), "remote", r.RemoteAddr)

	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already answered with an HTTP error.
		log.Debug("websocket upgrade failed", "err", err)
		return
	}

	// The request context is not cancelled when a hijacked connection
	// closes; the read pump does that.
	ctx, cancel := context.WithCancel(r.Context())
	ws := &wsSession{conn: conn, log: log, cancel: cancel}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ws.readPump() }()
	go func() { defer wg.Done(); ws.pinger(ctx) }()
	defer func() {
		cancel()
		conn.Close()
		wg.Wait()
	}()

	log.Debug("viewer connected")
	err = ws.run(ctx, s)
	switch {
	case errors.Is(err, stream.ErrClosed):
		log.Debug("stream ended")
		ws.closeWith(websocket.CloseNormalClosure, "stream ended")
	case errors.Is(err, ErrNoTracks):
		ws.closeWith(websocket.CloseUnsupportedData, "no playable track")
	case ctx.Err() != nil, errors.Is(err, errViewerGone):
		log.Debug("viewer left", "err", err)
	default:
		log.Info("fmp4 websocket session ended", "err", err)
		ws.closeWith(websocket.CloseInternalServerErr, "")
	}
}

// wsSession is one viewer.
type wsSession struct {
	conn      *websocket.Conn
	log       *slog.Logger
	cancel    context.CancelFunc
	muxer     *Muxer
	g711Noted bool
}

// run reads the stream and sends init segments and fragments until the
// stream ends (stream.ErrClosed), ctx ends, or a write fails.
func (ws *wsSession) run(ctx context.Context, s *stream.Stream) error {
	rd := s.NewReader()
	defer rd.Close()
	dropped := rd.Dropped()

	for {
		units, err := rd.Read(ctx)
		if err != nil {
			return err
		}

		if d := rd.Dropped(); d != dropped {
			// The reader jumped ahead to a keyframe: close what was pending
			// rather than stretching its last sample over the gap.
			ws.log.Debug("viewer fell behind, skipped to keyframe", "dropped", d-dropped)
			dropped = d
			if ws.muxer != nil {
				if err := ws.flush(); err != nil {
					return err
				}
			}
		}

		if ws.muxer == nil {
			ws.muxer = NewMuxer(initialTracks(s.Tracks(), units))
			if err := ws.sendInit(); err != nil {
				return err
			}
		}

		for _, u := range units {
			frag, err := ws.muxer.Write(u)
			if errors.Is(err, ErrParamsChanged) {
				ws.log.Debug("codec parameters changed, sending a new init segment", "track", u.Track)
				if err := ws.flush(); err != nil {
					return err
				}
				ws.muxer.ResetWith(u)
				if err := ws.sendInit(); err != nil {
					return err
				}
				frag, err = ws.muxer.Write(u)
			}
			if err != nil {
				return err
			}
			if frag != nil {
				if err := ws.write(websocket.BinaryMessage, frag); err != nil {
					return err
				}
			}
		}
	}
}

// sendInit sends the TEXT init message and the init segment. When nothing
// can be carried it tells the client why and ends the session.
func (ws *wsSession) sendInit() error {
	ws.noteG711()
	init, err := ws.muxer.Init()
	if err != nil {
		ws.log.Info("nothing to stream as fMP4", "err", err)
		// Tell the client; the error that ends the session is what counts.
		_ = ws.writeJSON(message{Type: "error", Message: err.Error()})
		return err
	}
	if err := ws.writeJSON(message{Type: "init", MIME: ws.muxer.MIME()}); err != nil {
		return err
	}
	return ws.write(websocket.BinaryMessage, init)
}

// flush sends what the muxer still holds.
func (ws *wsSession) flush() error {
	frag, err := ws.muxer.Flush()
	if err != nil || frag == nil {
		return err
	}
	return ws.write(websocket.BinaryMessage, frag)
}

// noteG711 logs, once per session, that G.711 audio is left out.
func (ws *wsSession) noteG711() {
	if ws.g711Noted {
		return
	}
	for _, p := range ws.muxer.Tracks() {
		if p != nil && (p.Codec == unit.CodecPCMA || p.Codec == unit.CodecPCMU) {
			ws.g711Noted = true
			ws.log.Debug("G.711 audio left out: MSE cannot play it", "codec", p.Codec.String())
			return
		}
	}
}

func (ws *wsSession) writeJSON(m message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return ws.write(websocket.TextMessage, b)
}

func (ws *wsSession) write(typ int, b []byte) error {
	err := ws.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err == nil {
		err = ws.conn.WriteMessage(typ, b)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errViewerGone, err)
	}
	return nil
}

// closeWith sends a close frame; the connection is closed right after.
func (ws *wsSession) closeWith(code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	_ = ws.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// readPump reads (and drops) what the client sends, so that pongs and the
// close handshake are processed, and ends the session when the client goes.
func (ws *wsSession) readPump() {
	defer ws.cancel()
	ws.conn.SetReadLimit(maxClientMessage)
	_ = ws.conn.SetReadDeadline(time.Now().Add(pongWait))
	ws.conn.SetPongHandler(func(string) error {
		return ws.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		if _, _, err := ws.conn.ReadMessage(); err != nil {
			return
		}
	}
}

// pinger pings the client every pingInterval. WriteControl may run
// concurrently with the data writes of run.
func (ws *wsSession) pinger(ctx context.Context) {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ws.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				ws.cancel()
				return
			}
		}
	}
}

// initialTracks returns the parameters to build the first init segment with:
// the stream's current ones, except for tracks whose first units (read from
// the GOP cache) still carry older parameters.
func initialTracks(current []*unit.Params, first []*unit.Unit) []*unit.Params {
	tracks := append([]*unit.Params(nil), current...)
	seen := make(map[int]bool)
	for _, u := range first {
		if u.Track < 0 || seen[u.Track] {
			continue
		}
		seen[u.Track] = true
		for len(tracks) <= u.Track {
			tracks = append(tracks, nil)
		}
		tracks[u.Track] = u.Params
	}
	return tracks
}
