package hls

import (
	"encoding/json"
	"net/http"
)

// Error codes of the JSON error body, as the web API uses them.
const (
	codeNotFound          = "not_found"
	codeStreamUnavailable = "stream_unavailable"
)

// errorBody is the JSON error answer: {"error":{"code":…,"message":…}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(b)
}

// trackingWriter records whether a handler answered, and can forbid caching.
type trackingWriter struct {
	http.ResponseWriter
	wrote   bool
	noCache bool
}

func (w *trackingWriter) WriteHeader(status int) {
	if !w.wrote && w.noCache {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// probeWriter is the ResponseWriter of the readiness probe: it keeps the
// status and drops the body.
type probeWriter struct {
	header http.Header
	status int
}

func (w *probeWriter) Header() http.Header { return w.header }

func (w *probeWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *probeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
