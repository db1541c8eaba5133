package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/web"
)

// docOp is one operation of the OpenAPI document.
type docOp struct {
	method  string // upper case
	path    string // OpenAPI style, /live/{stream}.flv
	secured bool   // has a non-empty security requirement
}

// openAPIDoc fetches the served document.
func openAPIDoc(t *testing.T, ta *testApp) map[string]any {
	t.Helper()
	var doc map[string]any
	ta.api("GET", "/api/v1/openapi.json", nil, http.StatusOK, &doc)
	return doc
}

// docOperations lists the operations of the served document, sorted.
func docOperations(t *testing.T, ta *testApp) []docOp {
	t.Helper()
	paths, ok := openAPIDoc(t, ta)["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.json has no paths object")
	}
	var ops []docOp
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			sec, _ := op.(map[string]any)["security"].([]any)
			ops = append(ops, docOp{method: strings.ToUpper(m), path: p, secured: len(sec) > 0})
		}
	}
	slices.SortFunc(ops, func(a, b docOp) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	return ops
}

// ginRoute is one route registered in the gin engine.
type ginRoute struct{ method, path string }

// ginRoutes builds the web.Server router, as newApp does, and returns its
// routes.
func ginRoutes(t *testing.T) []ginRoute {
	t.Helper()
	s := &web.Server{Auth: &web.Auth{}, Logger: slog.New(slog.DiscardHandler)}
	eng, ok := s.Handler().(*gin.Engine)
	if !ok {
		t.Fatalf("web.Server.Handler is a %T, not a *gin.Engine", s.Handler())
	}
	var out []ginRoute
	for _, r := range eng.Routes() {
		out = append(out, ginRoute{r.Method, r.Path})
	}
	return out
}

// suffixParam matches a path parameter followed by literal text in the same
// segment, {stream}.flv: gin cannot route on that, so the router registers
// the whole segment as one parameter (:stream) and dispatches on the suffix.
var suffixParam = regexp.MustCompile(`^\{([a-z_]+)\}(.+)$`)

// docToGin maps an OpenAPI path to the gin path it is served under:
// {id} becomes :id, and {stream}.flv becomes :stream.
func docToGin(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if m := suffixParam.FindStringSubmatch(s); m != nil {
			segs[i] = ":" + m[1]
		} else if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}

// TestOpenAPIMatchesRouter keeps the document and the router in step: the
// set of (method, path) of one is the set of the other, and every schema
// reference resolves.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	ta := startApp(t)
	doc := openAPIDoc(t, ta)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", doc["openapi"])
	}
	if info, _ := doc["info"].(map[string]any); info["title"] == nil || info["version"] == nil {
		t.Errorf("info %v", doc["info"])
	}

	// Several document paths may share one gin path (/ws/live/{stream}.flv
	// and .mp4 are both /ws/live/:stream); the sets are compared on gin
	// paths, and each suffix is then checked to be dispatched.
	fromDoc := map[ginRoute][]string{}
	var suffixed []docOp
	for _, op := range docOperations(t, ta) {
		r := ginRoute{op.method, docToGin(op.path)}
		fromDoc[r] = append(fromDoc[r], op.path)
		for _, s := range strings.Split(op.path, "/") {
			if suffixParam.MatchString(s) {
				suffixed = append(suffixed, op)
			}
		}
	}
	fromGin := map[ginRoute]bool{}
	for _, r := range ginRoutes(t) {
		fromGin[r] = true
		if _, ok := fromDoc[r]; !ok {
			t.Errorf("route %s %s is not in openapi.json", r.method, r.path)
		}
	}
	for r, paths := range fromDoc {
		if !fromGin[r] {
			t.Errorf("openapi.json has %s %v, which the router does not serve (as %s)", r.method, paths, r.path)
		}
	}
	if len(suffixed) < 3 {
		t.Errorf("expected the FLV and WebSocket play routes to have suffixed parameters, got %v", suffixed)
	}
	// A suffixed route is reached (the auth check answers 401), the same
	// segment with another suffix is not a route (404).
	for _, op := range suffixed {
		path := strings.NewReplacer("{stream}", "ch1").Replace(op.path)
		resp := ta.send(op.method, path, "", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", op.method, path, resp.StatusCode)
		}
		other := strings.TrimSuffix(path, path[strings.LastIndex(path, "."):]) + ".nope"
		if op.method == "GET" {
			st, body := ta.do("GET", other, ta.token, nil)
			wantError(t, "GET "+other, st, body, http.StatusNotFound, "not_found")
		}
	}

	// Every $ref points at a schema of the document.
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	refs := regexp.MustCompile(`"\$ref":"#/components/schemas/([^"]+)"`).FindAllStringSubmatch(string(raw), -1)
	if len(refs) == 0 {
		t.Error("no $ref in the document")
	}
	for _, m := range refs {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("$ref to missing schema %q", m[1])
		}
	}
	// Every operation documents its success, and a secured one its 401.
	for p, item := range doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			o := op.(map[string]any)
			resps, _ := o["responses"].(map[string]any)
			ok := false
			for code := range resps {
				ok = ok || code[0] == '2' || code == "101"
			}
			if !ok {
				t.Errorf("%s %s documents no success response: %v", m, p, resps)
			}
			if sec, _ := o["security"].([]any); len(sec) > 0 && resps["401"] == nil {
				t.Errorf("%s %s is secured but documents no 401", m, p)
			}
		}
	}
}
