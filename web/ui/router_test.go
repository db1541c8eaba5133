package ui_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/nvr/nvr/web"
	"github.com/nvr/nvr/web/ui"
)

// startRouter serves the API's real router on 127.0.0.1, with no database behind it: enough
// for the routes that answer before reaching one (the console, 401s, 404s).
func startRouter(t *testing.T) *httptest.Server {
	t.Helper()
	s := &web.Server{Auth: &web.Auth{}, Logger: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// No transparent gzip: the test sees what was sent.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var (
	pageLink   = regexp.MustCompile(`(?:src|href)="(/[^"]+)"`)
	moduleLink = regexp.MustCompile(`(?m)(?:^\s*import\s[^;]*?from\s*|^\s*import\s*|\bimport\s*\(\s*)['"](\.{1,2}/[^'"]+)['"]|new URL\('(\.{1,2}/[^']+)'`)
	mediaTypes = map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml",
	}
)

// TestConsoleThroughRouter loads the page as a browser would, then every asset it reaches
// (links of the page, imports of each module), through the API's router.
func TestConsoleThroughRouter(t *testing.T) {
	srv := startRouter(t)
	resp, page := fetch(t, "GET", srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkCSP(t, "/", resp)

	seen := map[string]bool{}
	queue := []string{}
	for _, m := range pageLink.FindAllStringSubmatch(string(page), -1) {
		queue = append(queue, m[1])
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		resp, body := fetch(t, "GET", srv.URL+u, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", u, resp.StatusCode)
			continue
		}
		checkCSP(t, u, resp)
		if want := mediaTypes[path.Ext(u)]; resp.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: Content-Type %q, want %q", u, resp.Header.Get("Content-Type"), want)
		}
		if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: Cache-Control %q: the page links versioned assets", u, resp.Header.Get("Cache-Control"))
		}
		if path.Ext(u) == ".js" {
			for _, m := range moduleLink.FindAllStringSubmatch(string(body), -1) {
				spec := m[1] + m[2]
				queue = append(queue, path.Join(path.Dir(u), spec))
			}
		}
	}
	// Every embedded asset is reachable from the page: nothing is dead weight.
	h := ui.New()
	for _, f := range h.Files() {
		if !seen[h.Base()+f] {
			t.Errorf("%s is embedded but nothing loads it", f)
		}
	}
}

func checkCSP(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("%s: CSP %q", what, csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: no nosniff", what)
	}
}

// TestAPIAnswersUnchanged checks that mounting the console left the API's answers alone:
// unknown API, play and other paths still get the JSON 404, protected routes the 401.
func TestAPIAnswersUnchanged(t *testing.T) {
	srv := startRouter(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/no-such-route", http.StatusNotFound, "not_found"},
		{"GET", "/api/v2/devices", http.StatusNotFound, "not_found"},
		{"GET", "/api/", http.StatusNotFound, "not_found"},
		{"POST", "/api/v1/nothing", http.StatusNotFound, "not_found"},
		{"GET", "/api/v1/devices", http.StatusUnauthorized, "unauthorized"},
		{"GET", "/api/v1/openapi.json", http.StatusUnauthorized, "unauthorized"},
		{"GET", "/live/ch1.flv", http.StatusUnauthorized, "unauthorized"},
		{"GET", "/ws/live/ch1.webm", http.StatusNotFound, "not_found"},
		{"PUT", "/api/v1/devices", http.StatusMethodNotAllowed, "method_not_allowed"},
		// Unknown paths outside the console are not the page: the console routes in the
		// fragment (#/wall), so a mistyped URL is an honest 404, not a blank app.
		{"GET", "/devices", http.StatusNotFound, "not_found"},
		{"GET", "/no/such/page.html", http.StatusNotFound, "not_found"},
		{"GET", "/consoles", http.StatusNotFound, "not_found"},
	} {
		resp, body := fetch(t, tc.method, srv.URL+tc.path, nil)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(body, &e) != nil || e.Error.Code != tc.code {
			t.Errorf("%s %s: %d %q %s, want %d %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.code)
		}
		if resp.Header.Get("Content-Security-Policy") != "" && strings.HasPrefix(tc.path, "/api/") {
			t.Errorf("%s %s: the API got the console's headers", tc.method, tc.path)
		}
	}

	// The console's own misses are plain 404s, and it takes GET and HEAD only.
	resp, _ := fetch(t, "GET", srv.URL+"/console/no-such.js", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /console/no-such.js: %d", resp.StatusCode)
	}
	resp, _ = fetch(t, "POST", srv.URL+"/", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", resp.StatusCode)
	}
	resp, body := fetch(t, "HEAD", srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD /: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
	// A cached page is revalidated through the router too.
	resp, _ = fetch(t, "GET", srv.URL+"/", nil)
	resp2, body := fetch(t, "GET", srv.URL+"/", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	if resp2.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET / with its ETag: %d, %d bytes", resp2.StatusCode, len(body))
	}
	// Compressed for clients that ask.
	resp, _ = fetch(t, "GET", srv.URL+"/", map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET / with Accept-Encoding gzip: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}
