package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// contentTypes maps the extensions of the embedded files to their media
// types. The table is ours, not mime.TypeByExtension's, which reads the
// host's mime.types and differs between systems (.js as
// application/javascript, text/plain or nothing). Module scripts need a
// JavaScript type or the browser refuses them (nosniff).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
}

// minGzipGain is the least a compressed copy must save to be kept: below it
// the client's inflating costs more than the bytes.
const minGzipGain = 256

// asset is one file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string // strong ETag of body; the gzip variant adds "-gz"

	// The gzipped body is made on the first request that accepts it: a
	// router is built more often (tests) than every asset is fetched.
	gzipOnce sync.Once
	gzipped  bool
	gz       []byte // nil when not worth it
}

func newAsset(name string, body []byte) (*asset, error) {
	ctype, ok := contentTypes[path.Ext(name)]
	if !ok {
		return nil, fmt.Errorf("%s: no content type for %q", name, path.Ext(name))
	}
	sum := sha256.Sum256(body)
	a := &asset{body: body, ctype: ctype, etag: hex.EncodeToString(sum[:8])}
	a.gzipped = strings.HasPrefix(ctype, "text/") || ctype == "image/svg+xml" || ctype == "application/json"
	return a, nil
}

// compressed returns the gzipped body, or nil when the asset is not sent compressed.
func (a *asset) compressed() []byte {
	if !a.gzipped {
		return nil
	}
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return
		}
		if _, err := zw.Write(a.body); err != nil {
			return
		}
		if zw.Close() == nil && buf.Len()+minGzipGain <= len(a.body) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// serve writes the asset, or 304 when the client's copy is current. Every
// status is written explicitly: the API router calls the console from its
// not-found handler, whose default status is 404.
func (a *asset) serve(w http.ResponseWriter, r *http.Request, cache string) {
	h := w.Header()
	body, etag := a.body, `"`+a.etag+`"`
	if a.gzipped {
		// Vary whenever the answer might differ, even for this client.
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if gz := a.compressed(); gz != nil {
				body, etag = gz, `"`+a.etag+`-gz"`
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // a client that left is not our error
	}
}

// acceptsGzip reads an Accept-Encoding header (RFC 9110 §12.5.3): gzip with
// a q-value other than 0, or, when gzip is not named, * with one.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// etagMatches applies If-None-Match (RFC 9110 §13.1.2): weak comparison, a
// list of tags, or "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
