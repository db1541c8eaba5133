package flv

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/nvr/nvr/media/stream"
)

// writeTimeout bounds one write to a viewer. A viewer that cannot take a
// batch for this long is gone or hopelessly slow; its reader would only
// keep skipping to the newest keyframe.
const writeTimeout = 10 * time.Second

// ServeHTTP serves s as HTTP-FLV: a 200 response of Content-Type
// video/x-flv and no Content-Length, until the client leaves or the stream
// ends. A HEAD request gets the headers only; a stream that is already
// closed, 404.
//
// On HTTP/1.x the connection is taken over (hijacked) after the request:
// the response is the headers set on w (CORS headers of a middleware
// included), "Connection: close", and the FLV bytes until the connection
// closes, with no chunked encoding, which every FLV player accepts. Each
// batch (a video frame with the audio before it) is then one writev on
// the socket instead of three or more writes through net/http's chunked
// writer. Where the connection cannot be taken over (HTTP/2), the response
// goes through w, chunked on HTTP/1.1 and flushed after every batch.
func ServeHTTP(w http.ResponseWriter, r *http.Request, s *stream.Stream, log *slog.Logger) {
	httpServer{writeTimeout: writeTimeout}.serve(w, r, s, log)
}

// httpServer holds the write timeout, shorter in tests.
type httpServer struct {
	writeTimeout time.Duration
}

func (hs httpServer) serve(w http.ResponseWriter, r *http.Request, s *stream.Stream, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "flv", "stream", s.Name(), "remote", r.RemoteAddr, "proto", "http")
	if s.Closed() {
		http.Error(w, "stream closed", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "video/x-flv")
	h.Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	rc := http.NewResponseController(w)
	log.Info("FLV viewer connected")
	// gin's writer hijacks by asserting its own writer is an http.Hijacker,
	// which net/http's HTTP/2 writer is not: ask HTTP/1.x connections only.
	if r.ProtoMajor == 1 {
		conn, rw, err := rc.Hijack()
		if err == nil {
			hs.serveConn(r, h, conn, rw.Reader, s, log)
			return
		}
		log.Debug("cannot take over the connection, serving through net/http", "error", err)
	}
	err := Serve(r.Context(), &deadlineWriter{w: w, rc: rc, dl: newWriteDeadline(hs.writeTimeout)}, s, Options{
		Flush:  func() { _ = rc.Flush() },
		Logger: log,
	})
	if err != nil && r.Context().Err() == nil {
		log.Debug("FLV write failed", "error", err)
	}
}

// deadlineWriter keeps a write deadline ahead of each write, where the
// connection supports it.
type deadlineWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	dl writeDeadline
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if err := d.dl.extend(d.rc); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	return d.w.Write(p)
}
