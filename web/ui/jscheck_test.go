package ui

import (
	"context"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeTimeout bounds each node run; they take well under a second.
const nodeTimeout = time.Minute

// needNode returns the path of node, or skips: the console runs without Node, and
// only these checks of its JavaScript use it. .ci/run installs it and sets
// NVR_REQUIRE_TOOLS=1, which turns the skip into a failure.
func needNode(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("NVR_REQUIRE_TOOLS") == "1" {
			t.Fatal("node is not installed and NVR_REQUIRE_TOOLS=1")
		}
		t.Skip("node is not installed: the JavaScript syntax, link and unit checks are skipped")
	}
	return p
}

// copyStatic writes the embedded files to a temporary folder marked as ES modules, the way
// the browser sees them, and returns it.
func copyStatic(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "static")))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runNode(t *testing.T, node, dir string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// jsModules lists the embedded JavaScript files, as paths under static.
func jsModules(t *testing.T) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".js" {
			out = append(out, strings.TrimPrefix(p, "static/"))
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	return out
}

// TestJavaScriptSyntax parses every module as an ES module (node --check).
func TestJavaScriptSyntax(t *testing.T) {
	node := needNode(t)
	dir := copyStatic(t)
	for _, m := range jsModules(t) {
		runNode(t, node, dir, nil, "--check", filepath.FromSlash(m))
	}
}

// TestJavaScriptModulesLink imports every module but the entry point, which starts the app:
// an import of a name that a module does not export, or a module that touches the page at
// load time, fails here rather than in a browser.
func TestJavaScriptModulesLink(t *testing.T) {
	node := needNode(t)
	dir := copyStatic(t)
	var script strings.Builder
	for _, m := range jsModules(t) {
		if m == "js/main.js" {
			continue
		}
		script.WriteString("await import(" + quoteJS("./"+m) + ");\n")
	}
	runNode(t, node, dir, nil, "--input-type=module", "-e", script.String())
}

// TestJavaScriptUnits runs testdata/modules.test.mjs: the pure functions of the modules
// (chunk planning, backoff, routing, wall state, timeline views).
func TestJavaScriptUnits(t *testing.T) {
	node := needNode(t)
	dir := copyStatic(t)
	spec, err := filepath.Abs(filepath.Join("testdata", "modules.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	base := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir) + "/"}).String()
	runNode(t, node, dir, []string{"CONSOLE_STATIC=" + base}, "--test", spec)
}

func quoteJS(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
