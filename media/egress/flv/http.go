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
// video/x-flv, without Content-Length (chunked on HTTP/1.1), flushed after
// every batch, until the client leaves or the stream ends. A HEAD request
// gets the headers only; a stream that is already closed, 404.
func ServeHTTP(w http.ResponseWriter, r *http.Request, s *stream.Stream, log *slog.Logger) {
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
	err := Serve(r.Context(), deadlineWriter{w: w, rc: rc}, s, Options{
		Flush:  func() { _ = rc.Flush() },
		Logger: log,
	})
	if err != nil && r.Context().Err() == nil {
		log.Debug("FLV write failed", "error", err)
	}
}

// deadlineWriter sets a write deadline before each write, where the
// connection supports it.
type deadlineWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	return d.w.Write(p)
}
