package ui

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// get serves one request through h and returns the recorded answer.
func get(h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:8080"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// wantType is the Content-Type each extension must be served with.
var wantType = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

func checkCommon(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	if got := h.Get("Content-Security-Policy"); got != csp("127.0.0.1:8080") {
		t.Errorf("%s: CSP %q", what, got)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if h.Get(k) != v {
			t.Errorf("%s: %s = %q, want %q", what, k, h.Get(k), v)
		}
	}
}

func TestServesPageAndAssets(t *testing.T) {
	h := New()
	if len(h.Files()) < 10 {
		t.Fatalf("only %d assets embedded: %v", len(h.Files()), h.Files())
	}
	type target struct{ url, file, cache string }
	targets := []target{{"/", "index.html", cacheRevalidate}, {"/index.html", "index.html", cacheRevalidate}}
	for _, f := range h.Files() {
		targets = append(targets,
			target{h.Base() + f, f, cacheImmutable},
			target{Prefix + f, f, cacheRevalidate},                     // unversioned
			target{Prefix + "v-0123456789ab/" + f, f, cacheRevalidate}, // a page from another build
		)
	}
	for _, tc := range targets {
		rec := get(h, "GET", tc.url, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", tc.url, rec.Code)
			continue
		}
		checkCommon(t, tc.url, rec)
		if want := wantType[path.Ext(tc.file)]; rec.Header().Get("Content-Type") != want {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.url, rec.Header().Get("Content-Type"), want)
		}
		if got := rec.Header().Get("Cache-Control"); got != tc.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.url, got, tc.cache)
		}
		etag := rec.Header().Get("ETag")
		if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
			t.Errorf("GET %s: ETag %q", tc.url, etag)
		}
		if rec.Header().Get("Content-Length") != "" && rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("GET %s: Content-Length %s for %d bytes", tc.url, rec.Header().Get("Content-Length"), rec.Body.Len())
		}
		// Revalidation.
		rec304 := get(h, "GET", tc.url, map[string]string{"If-None-Match": `"nope", ` + etag})
		if rec304.Code != http.StatusNotModified || rec304.Body.Len() != 0 {
			t.Errorf("GET %s with its ETag: %d, %d bytes", tc.url, rec304.Code, rec304.Body.Len())
		}
		// HEAD: the headers, no body.
		head := get(h, "HEAD", tc.url, nil)
		if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Type") != rec.Header().Get("Content-Type") {
			t.Errorf("HEAD %s: %d, %d bytes, %q", tc.url, head.Code, head.Body.Len(), head.Header().Get("Content-Type"))
		}
	}
}

func TestGzip(t *testing.T) {
	h := New()
	url := h.Base() + "js/player.js"
	plain := get(h, "GET", url, nil)
	gz := get(h, "GET", url, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip for a client that accepts it: %v", gz.Header())
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("the gzip variant has the ETag of the plain one")
	}
	if !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q", gz.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
		t.Errorf("inflated body differs (%v)", err)
	}
	if no := get(h, "GET", url, map[string]string{"Accept-Encoding": "gzip;q=0, *"}); no.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refuses it")
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := New()
	for _, u := range []string{
		Prefix + "nope.js", h.Base() + "nope.js", h.Base(), Prefix + "js/../index.html", h.Base() + "js//app.js",
		Prefix + "v-1/", "/elsewhere",
	} {
		if rec := get(h, "GET", u, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", u, rec.Code)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		rec := get(h, m, "/", nil)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: %d, Allow %q", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
}

func TestOwns(t *testing.T) {
	h := New()
	for p, want := range map[string]bool{
		"/": true, "/index.html": true, "/favicon.ico": true, "/console": true, "/console/": true,
		"/console/js/app.js": true, h.Base() + "css/app.css": true,
		"/api/v1/devices": false, "/api/v1/nope": false, "/live/ch1.flv": false, "/ws/live/ch1.mp4": false,
		"/devices": false, "/consoles": false, "": false,
	} {
		if got := h.Owns(p); got != want {
			t.Errorf("Owns(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestPageLinksCurrentAssets(t *testing.T) {
	h := New()
	page := get(h, "GET", "/", nil).Body.String()
	if strings.Contains(page, baseToken) {
		t.Error("the page still holds the placeholder")
	}
	links := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 3 {
		t.Fatalf("the page links %d assets", len(links))
	}
	for _, m := range links {
		rest, ok := strings.CutPrefix(m[1], h.Base())
		if !ok {
			t.Errorf("the page links %s, not under %s", m[1], h.Base())
			continue
		}
		if _, ok := h.files[rest]; !ok {
			t.Errorf("the page links %s, which is not embedded", m[1])
		}
	}
	if !strings.Contains(page, `<script type="module" src="`+h.Base()+`js/main.js">`) {
		t.Error("the page does not load js/main.js as a module")
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>`).MatchString(page) || strings.Contains(page, " style=") {
		t.Error("the page has inline script or style, which the CSP refuses")
	}
}

// importSpec matches the module specifiers of static and dynamic imports.
var importSpec = regexp.MustCompile(`(?m)(?:^\s*import\s[^;]*?from\s*|^\s*import\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]`)

// TestModuleImportsResolve checks that every import between the modules names an embedded file
// by a relative path: bare specifiers (a package name) would need a bundler or an import map.
func TestModuleImportsResolve(t *testing.T) {
	h := New()
	n := 0
	for name, a := range h.files {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, m := range importSpec.FindAllStringSubmatch(string(a.body), -1) {
			n++
			spec := m[1]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q: only relative imports of embedded modules work", name, spec)
				continue
			}
			target := path.Join(path.Dir(name), spec)
			if _, ok := h.files[target]; !ok {
				t.Errorf("%s imports %q (%s), which is not embedded", name, spec, target)
			}
		}
	}
	if n < 10 {
		t.Errorf("found only %d imports: is the pattern right?", n)
	}
}

// remoteURL matches an absolute URL to another host, or a protocol-relative one in a string or
// url(), in any asset.
var (
	absURL = regexp.MustCompile(`(?i)\b(?:https?|wss?|ftp)://[^\s"'<>)]*`)
	relURL = regexp.MustCompile(`(?i)(?:["'(=]\s*)//[a-z0-9-]+\.[a-z0-9.-]+`)
	// xmlNamespaces are names, never fetched.
	xmlNamespaces = map[string]bool{"http://www.w3.org/2000/svg": true, "http://www.w3.org/1999/xhtml": true}
)

func TestNoRemoteReferences(t *testing.T) {
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		for _, u := range absURL.FindAllString(string(b), -1) {
			if !xmlNamespaces[u] {
				t.Errorf("%s refers to %s: the console must not load anything from other hosts", p, u)
			}
		}
		for _, u := range relURL.FindAllString(string(b), -1) {
			t.Errorf("%s has a protocol-relative URL %s", p, u)
		}
		if bytes.Contains(b, []byte("@import")) {
			t.Errorf("%s uses @import", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCSP(t *testing.T) {
	p := csp("nvr.example:8080")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
		"connect-src 'self' ws://nvr.example:8080 wss://nvr.example:8080", "media-src 'self' blob:"} {
		if !strings.Contains(p, want) {
			t.Errorf("CSP %q lacks %q", p, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:", " ws: "} {
		if strings.Contains(p, bad) {
			t.Errorf("CSP %q allows %q", p, bad)
		}
	}
	// A Host header cannot add sources or directives.
	for _, host := range []string{"a.b; script-src *", "evil.example 'unsafe-inline'", "x\r\ny", ""} {
		if got := csp(host); got != strings.Join(append(cspBase[:len(cspBase):len(cspBase)], "connect-src 'self'"), "; ") {
			t.Errorf("csp(%q) = %q", host, got)
		}
	}
	if got := csp("[::1]:8080"); !strings.Contains(got, "ws://[::1]:8080") {
		t.Errorf("IPv6 host: %q", got)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=1.0": true, "gzip;q=0": false, "gzip; q=0.0": false,
		"*": true, "*;q=0": false, "br": false, "gzip;q=0, *": false, "*, gzip;q=0": false, "identity, x-gzip": true,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestETagMatches(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{`"abc"`, true}, {`W/"abc"`, true}, {`"x", "abc"`, true}, {`*`, true}, {`"abcd"`, false}, {``, false}, {`abc`, false},
	} {
		if got := etagMatches(tc.header, `"abc"`); got != tc.want {
			t.Errorf("etagMatches(%q) = %v", tc.header, got)
		}
	}
}

func TestVersionFollowsContent(t *testing.T) {
	files := fstest.MapFS{
		"static/index.html": {Data: []byte(`<link href="%BASE%css/a.css">`)},
		"static/css/a.css":  {Data: []byte("a{}")},
	}
	a, err := load(files)
	if err != nil {
		t.Fatal(err)
	}
	files["static/css/a.css"] = &fstest.MapFile{Data: []byte("b{}")}
	b, err := load(files)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() == b.Version() || len(a.Version()) != versionLen {
		t.Errorf("versions %q and %q", a.Version(), b.Version())
	}
	if got := string(a.index.body); got != `<link href="/console/v-`+a.Version()+`/css/a.css">` {
		t.Errorf("page %q", got)
	}
	files["static/x.exe"] = &fstest.MapFile{Data: []byte("?")}
	if _, err := load(files); err == nil {
		t.Error("a file without a known content type was accepted")
	}
	delete(files, "static/x.exe")
	delete(files, "static/index.html")
	if _, err := load(files); err == nil {
		t.Error("no index.html was accepted")
	}
}
