package ui_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A small Chrome DevTools Protocol client, enough to drive a headless Chromium from a test:
// evaluate JavaScript, click and type as a user, and collect what the page reports as errors.
// (chromedp would do, but it is not a dependency of the module.)

// chromiumFlags are the flags DEPS.md lists for headless playback in Debian's Chromium.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--autoplay-policy=no-user-gesture-required", "--disable-extensions", "--mute-audio",
	"--window-size=1280,720", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
}

var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// browser is a running Chromium and the connection to its first page.
type browser struct {
	t    *testing.T
	cmd  *exec.Cmd
	page *cdpConn

	mu     sync.Mutex
	errors []string // console errors, exceptions, failed loads, CSP violations
	shots  string   // folder for screenshots, or ""
}

// startBrowser starts Chromium on about:blank and connects to its page. It is closed when
// the test ends.
func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	profile := t.TempDir()
	cmd := exec.Command(bin, append(chromiumFlags, "--user-data-dir="+profile, "about:blank")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	b := &browser{t: t, cmd: cmd, shots: os.Getenv("NVR_BROWSER_SCREENSHOTS")}
	t.Cleanup(b.close)

	found := make(chan string, 1)
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if log.Len() < 64*1024 {
				log.WriteString(line + "\n")
			}
			logMu.Unlock()
			if m := devtoolsLine.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var browserURL string
	select {
	case browserURL = <-found:
	case <-time.After(30 * time.Second):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("chromium did not open its DevTools port:\n%s", log.String())
	}

	// The page target's own WebSocket is listed by the HTTP endpoint.
	host := strings.TrimPrefix(browserURL, "ws://")
	host = host[:strings.Index(host, "/")]
	var targets []struct {
		Type, URL, WebSocketDebuggerURL string
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		if err == nil && len(targets) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wsURL := ""
	for _, tg := range targets {
		if tg.Type == "page" {
			wsURL = tg.WebSocketDebuggerURL
			break
		}
	}
	if wsURL == "" {
		t.Fatalf("no page among %+v", targets)
	}
	b.page, err = dialCDP(wsURL, b.onEvent)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable"} {
		b.call(m, nil, nil)
	}
	return b
}

func (b *browser) close() {
	if b.page != nil {
		b.page.close()
	}
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
}

// onEvent collects what the page reports as errors.
func (b *browser) onEvent(method string, params json.RawMessage) {
	var msg string
	switch method {
	case "Runtime.exceptionThrown":
		var p struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				URL       string `json:"url"`
				Line      int    `json:"lineNumber"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(params, &p)
		d := p.ExceptionDetails
		msg = fmt.Sprintf("exception: %s %s (%s:%d)", d.Text, d.Exception.Description, d.URL, d.Line)
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(params, &p)
		if p.Type != "error" && p.Type != "assert" {
			return
		}
		var parts []string
		for _, a := range p.Args {
			parts = append(parts, fmt.Sprint(a.Value, a.Description))
		}
		msg = "console." + p.Type + ": " + strings.Join(parts, " ")
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Source, Text, URL string
			} `json:"entry"`
		}
		_ = json.Unmarshal(params, &p)
		if p.Entry.Level != "error" {
			return
		}
		msg = fmt.Sprintf("log (%s): %s %s", p.Entry.Source, p.Entry.Text, p.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

// pageErrors returns what the page reported as errors so far.
func (b *browser) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

func (b *browser) call(method string, params, result any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.page.call(ctx, method, params, result); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
}

// eval evaluates a JavaScript expression in the page (awaiting a promise) and decodes its
// value into out, when out is not nil.
func (b *browser) eval(expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.page.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true,
	}, &res)
	if err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		return fmt.Errorf("%s %s", e.Text, e.Exception.Description)
	}
	if out != nil && len(res.Result.Value) > 0 {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// mustEval is eval that fails the test.
func (b *browser) mustEval(expr string, out any) {
	b.t.Helper()
	if err := b.eval(expr, out); err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
}

// waitFor polls a JavaScript condition until it is true.
func (b *browser) waitFor(what, expr string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		var ok bool
		if last = b.eval("Boolean("+expr+")", &ok); last == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.screenshot("timeout")
	var state string
	_ = b.eval(`document.body ? document.body.innerText.slice(0, 3000) : ''`, &state)
	b.t.Fatalf("timed out after %v waiting for %s (%s; last error %v)\npage text:\n%s\npage errors: %q",
		timeout, what, expr, last, state, b.pageErrors())
}

// click clicks the centre of the first element matching a CSS selector with real mouse
// events (a user gesture), after scrolling it into view.
func (b *browser) click(selector string) {
	b.t.Helper()
	b.clickAt(selector, 0.5)
}

// clickAt clicks at a fraction of the element's width (0: left edge, 0.5: centre).
func (b *browser) clickAt(selector string, frac float64) {
	b.t.Helper()
	x, y := b.point(selector, frac)
	b.mouse("mouseMoved", x, y)
	b.mouse("mousePressed", x, y)
	b.mouse("mouseReleased", x, y)
}

// point scrolls an element into view and returns a point on its middle line, at a fraction
// of its width.
func (b *browser) point(selector string, frac float64) (x, y float64) {
	b.t.Helper()
	var r struct{ X, Y float64 }
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) throw new Error('no element ' + %s);
		el.scrollIntoView({block: 'center'}); const r = el.getBoundingClientRect();
		return {X: r.left + r.width * %f, Y: r.top + r.height / 2}; })()`, jsString(selector), jsString(selector), frac)
	b.mustEval(expr, &r)
	return r.X, r.Y
}

// mouse sends one mouse event: mouseMoved, mousePressed or mouseReleased (left button).
func (b *browser) mouse(typ string, x, y float64) {
	b.t.Helper()
	p := map[string]any{"type": typ, "x": x, "y": y}
	if typ != "mouseMoved" {
		p["button"], p["clickCount"] = "left", 1
		p["buttons"] = map[string]int{"mousePressed": 1, "mouseReleased": 0}[typ]
	}
	b.call("Input.dispatchMouseEvent", p, nil)
}

// keys maps the DOM key names the tests press to their code and Windows key code.
var keys = map[string]struct {
	code string
	vk   int
}{"Enter": {"Enter", 13}, "Home": {"Home", 36}, "End": {"End", 35}, " ": {"Space", 32}}

// keyDown and keyUp press and release a key on the focused element.
func (b *browser) keyDown(key string) {
	b.t.Helper()
	k := keys[key]
	b.call("Input.dispatchKeyEvent", map[string]any{"type": "rawKeyDown", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk}, nil)
}

func (b *browser) keyUp(key string) {
	b.t.Helper()
	k := keys[key]
	b.call("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk}, nil)
}

// key presses and releases a key.
func (b *browser) key(key string) {
	b.t.Helper()
	b.keyDown(key)
	b.keyUp(key)
}

// navigate loads a URL and waits for its load event.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": url}, nil)
	b.waitFor("the page to load", `document.readyState === 'complete' && location.href.startsWith(`+jsString(url)+`)`, 30*time.Second)
}

// screenshot saves a PNG under NVR_BROWSER_SCREENSHOTS, when set.
func (b *browser) screenshot(name string) {
	if b.shots == "" {
		return
	}
	var res struct {
		Data string `json:"data"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.page.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err == nil {
		err = os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// cdpConn is one DevTools WebSocket: numbered calls and their answers, and events.
type cdpConn struct {
	ws      *websocket.Conn
	onEvent func(method string, params json.RawMessage)
	wmu     sync.Mutex // serializes writes

	mu      sync.Mutex
	next    int64
	pending map[int64]chan cdpMessage
	err     error // set when the read loop ends
	done    chan struct{}
}

type cdpMessage struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func dialCDP(url string, onEvent func(string, json.RawMessage)) (*cdpConn, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1 << 16}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, fmt.Errorf("devtools: %w", err)
	}
	ws.SetReadLimit(64 << 20) // screenshots
	c := &cdpConn{ws: ws, onEvent: onEvent, pending: map[int64]chan cdpMessage{}, done: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

func (c *cdpConn) readLoop() {
	defer close(c.done)
	for {
		var m cdpMessage
		if err := c.ws.ReadJSON(&m); err != nil {
			c.mu.Lock()
			c.err = err
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		if m.ID == 0 {
			c.onEvent(m.Method, m.Params)
			continue
		}
		c.mu.Lock()
		ch := c.pending[m.ID]
		delete(c.pending, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

func (c *cdpConn) call(ctx context.Context, method string, params, result any) error {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.next++
	id := c.next
	ch := make(chan cdpMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()

	if params == nil {
		params = struct{}{}
	}
	c.wmu.Lock()
	err := c.ws.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return errors.New("devtools connection closed")
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *cdpConn) close() {
	_ = c.ws.Close()
	<-c.done
}
