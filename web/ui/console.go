package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
)

// static holds the console's files. index.html names its assets with the
// placeholder baseToken, replaced by the versioned prefix at start-up.
//
//go:embed static
var static embed.FS

const (
	// Prefix is the path under which the assets are served.
	Prefix = "/console/"
	// baseToken in index.html is replaced by the versioned asset prefix.
	baseToken = "%BASE%"
	// versionTag starts the version segment of an asset path, /console/v-<hash>/.
	versionTag = "v-"
	// versionLen is the number of hex digits of the version hash: 48 bits
	// tell builds apart, and the URL stays short.
	versionLen = 12
)

// Cache-Control values. The page and unversioned assets are revalidated on
// every use (cheap with the ETag); versioned assets never change.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// Handler serves the console. It is safe for concurrent use and holds no
// state that changes after New.
type Handler struct {
	version string            // hex hash over every embedded file
	base    string            // Prefix + versionTag + version + "/"
	index   *asset            // the page, with base filled in
	files   map[string]*asset // by path inside static, "js/app.js"
}

// New loads the embedded files. The files are part of the binary, so a
// failure to read them is a build defect, not a run-time condition: New
// panics then (the package's tests read every file).
func New() *Handler {
	h, err := load(static)
	if err != nil {
		panic(fmt.Sprintf("console: embedded files: %v", err))
	}
	return h
}

// load builds a Handler over fsys, which holds a "static" folder.
func load(fsys fs.FS) (*Handler, error) {
	root, err := fs.Sub(fsys, "static")
	if err != nil {
		return nil, err
	}
	raw := map[string][]byte{}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		raw[p] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, ok := raw["index.html"]
	if !ok {
		return nil, fmt.Errorf("no index.html")
	}
	delete(raw, "index.html")

	// The version covers the page too: a changed page may expect changed assets.
	sum := sha256.New()
	names := make([]string, 0, len(raw))
	for p := range raw {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range append(names, "index.html") {
		b := raw[p]
		if p == "index.html" {
			b = page
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", p, len(b))
		sum.Write(b)
	}
	h := &Handler{version: hex.EncodeToString(sum.Sum(nil))[:versionLen], files: map[string]*asset{}}
	h.base = Prefix + versionTag + h.version + "/"

	for _, p := range names {
		a, err := newAsset(p, raw[p])
		if err != nil {
			return nil, err
		}
		h.files[p] = a
	}
	if h.index, err = newAsset("index.html", bytes.ReplaceAll(page, []byte(baseToken), []byte(h.base))); err != nil {
		return nil, err
	}
	return h, nil
}

// Version is the hash of the embedded files, as it appears in asset paths.
func (h *Handler) Version() string { return h.version }

// Base is the versioned prefix of the current assets, "/console/v-<hash>/".
func (h *Handler) Base() string { return h.base }

// Files lists the paths of the assets (without the page), sorted, as they
// are named under Base.
func (h *Handler) Files() []string {
	out := make([]string, 0, len(h.files))
	for p := range h.files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Owns reports whether the console answers for the URL path: the page
// ("/", "/index.html"), "/favicon.ico" and everything under Prefix. Other
// paths, including unknown ones, are the API router's.
func (h *Handler) Owns(urlPath string) bool {
	switch urlPath {
	case "/", "/index.html", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(urlPath, Prefix) || urlPath == strings.TrimSuffix(Prefix, "/")
}

// ServeHTTP serves the page and the assets. Paths it does not own answer 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header(), r.Host)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a, cache := h.lookup(r.URL.Path)
	if a == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	a.serve(w, r, cache)
}

// lookup finds the asset of a path and how long it may be cached.
func (h *Handler) lookup(urlPath string) (*asset, string) {
	switch urlPath {
	case "/", "/index.html", Prefix, strings.TrimSuffix(Prefix, "/"):
		return h.index, cacheRevalidate
	case "/favicon.ico":
		return h.files["img/icon.svg"], cacheRevalidate
	}
	rest, ok := strings.CutPrefix(urlPath, Prefix)
	if !ok {
		return nil, ""
	}
	cache := cacheRevalidate
	if first, after, found := strings.Cut(rest, "/"); found && strings.HasPrefix(first, versionTag) {
		rest = after
		if first == versionTag+h.version {
			cache = cacheImmutable
		}
		// Another version: a page from before an upgrade. It gets today's
		// file, not cached, rather than a broken page.
	}
	// Embedded names are clean; a path that is not (.., //) matches none.
	if rest == "" || path.Clean(rest) != rest {
		return nil, ""
	}
	a := h.files[rest]
	if a == nil {
		return nil, ""
	}
	return a, cache
}
