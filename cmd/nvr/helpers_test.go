package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/media/testsrc"
)

// The end-to-end tests of this package start the real app (newApp, serve)
// on 127.0.0.1:0 with short timeouts, publish committed clips with a
// testsrc RTSP server, and drive everything over HTTP and WebSocket as a
// client would.

const (
	// adminPassword is the configured admin password of in-process apps.
	adminPassword = "e2e-admin-pw"
	// waitTimeout bounds every wait for something that should happen
	// (a stream starting, a status changing). It is a safety net against a
	// hung test, never a performance assertion.
	// CI machines may be shared with load tests, hence the wide margin.
	waitTimeout = 60 * time.Second
	// idleTimeout is media.idle_timeout for the tests: short, so that the
	// on-demand tests do not wait long for a stream to stop.
	idleTimeout = 300 * time.Millisecond
)

// testConfig is the configuration of an in-process app: the defaults with
// every timeout shortened for tests.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.SIP.Addr = "127.0.0.1:0" // the default :5060 would collide between parallel tests
	cfg.DataDir = t.TempDir()
	cfg.Admin.Password = adminPassword
	cfg.Log.Level = "debug"
	cfg.Media.IdleTimeout = config.Duration(idleTimeout)
	cfg.Media.StartTimeout = config.Duration(5 * time.Second)
	cfg.Media.RingSize = 512
	cfg.RTSP.Transport = "tcp" // testsrc offers TCP only unless asked for UDP
	cfg.RTSP.ConnectTimeout = config.Duration(5 * time.Second)
	cfg.RTSP.ReadTimeout = config.Duration(5 * time.Second)
	cfg.RTSP.BackoffMin = config.Duration(100 * time.Millisecond)
	cfg.RTSP.BackoffMax = config.Duration(500 * time.Millisecond)
	cfg.HLS.SegmentDuration = config.Duration(time.Second)
	cfg.HLS.IdleTimeout = config.Duration(5 * time.Second)
	return cfg
}

// testApp is an app running in the test process, with a logged-in client.
type testApp struct {
	t     *testing.T
	base  string // http://127.0.0.1:port
	token string
	http  *http.Client
	logs  *syncBuffer

	rec *recorder
}

// recorder keeps every JSON body the API answered, for leak checks.
type recorder struct {
	mu     sync.Mutex
	bodies []string
}

// with returns ta for use in the subtest t: failures end t, not its parent.
func (ta *testApp) with(t *testing.T) *testApp {
	c := *ta
	c.t = t
	return &c
}

// startApp starts the app with testConfig, adjusted by the options, on a
// copy of a database where the admin user already exists, and logs in as
// admin. Everything is shut down when the test ends.
//
// Starting on a copy saves a bcrypt hash per app, which costs most of a
// second under the race detector; startFreshApp starts on an empty data dir.
func startApp(t *testing.T, opts ...func(*config.Config)) *testApp {
	t.Helper()
	return launchApp(t, true, opts...)
}

// startFreshApp is startApp on an empty data dir: a first start.
func startFreshApp(t *testing.T, opts ...func(*config.Config)) *testApp {
	t.Helper()
	return launchApp(t, false, opts...)
}

func launchApp(t *testing.T, fromTemplate bool, opts ...func(*config.Config)) *testApp {
	t.Helper()
	cfg := testConfig(t)
	if fromTemplate {
		if err := copyTemplate(cfg.DataDir); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	logs := &syncBuffer{}
	log := newLogger(logs, cfg.Log)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("newApp: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx) }()

	ta := &testApp{
		t:    t,
		base: "http://" + a.addr(),
		http: &http.Client{Transport: &http.Transport{}},
		logs: logs,
		rec:  &recorder{},
	}
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.shutdown()
		ta.http.CloseIdleConnections()
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	ta.token = ta.login("admin", adminPassword)
	return ta
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the app's
// goroutines log into it).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// login returns a token for the user, failing the test otherwise.
func (ta *testApp) login(user, password string) string {
	ta.t.Helper()
	var out struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	st, body := ta.do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password})
	if st != http.StatusOK {
		ta.t.Fatalf("login: %d %s", st, body)
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		ta.t.Fatalf("login answer %s: %v", body, err)
	}
	return out.Token
}

// do sends a request with the bearer token (none when token is "") and a
// JSON body (a string or []byte is sent as it is), and returns the status
// and the whole body.
func (ta *testApp) do(method, path, token string, body any) (int, []byte) {
	ta.t.Helper()
	resp := ta.send(method, path, token, body)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ta.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		ta.rec.mu.Lock()
		ta.rec.bodies = append(ta.rec.bodies, string(b))
		ta.rec.mu.Unlock()
	}
	return resp.StatusCode, b
}

// send is do without reading the body.
func (ta *testApp) send(method, path, token string, body any) *http.Response {
	ta.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ta.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	req, err := http.NewRequestWithContext(ctx, method, ta.base+path, r)
	if err != nil {
		cancel()
		ta.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ta.http.Do(req)
	if err != nil {
		cancel()
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// api sends an authenticated request, checks the status and decodes the
// JSON answer into out (when not nil).
func (ta *testApp) api(method, path string, body any, wantStatus int, out any) []byte {
	ta.t.Helper()
	st, b := ta.do(method, path, ta.token, body)
	if st != wantStatus {
		ta.t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, wantStatus, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			ta.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return b
}

// apiBodies returns every JSON body the API answered so far.
func (ta *testApp) apiBodies() []string {
	ta.rec.mu.Lock()
	defer ta.rec.mu.Unlock()
	return append([]string(nil), ta.rec.bodies...)
}

// apiError is the error body of the API.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks that a response is a JSON error with the status and code.
func wantError(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) apiError {
	t.Helper()
	var e apiError
	if status != wantStatus {
		t.Errorf("%s: status %d, want %d: %s", what, status, wantStatus, body)
		return e
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: body is not JSON: %v: %q", what, err, body)
		return e
	}
	if e.Error.Code != wantCode || e.Error.Message == "" {
		t.Errorf("%s: error %+v, want code %q and a message", what, e.Error, wantCode)
	}
	return e
}

// deviceJSON is a device as the API shows it.
type deviceJSON struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	AlwaysOn  bool   `json:"always_on"`
	Channels  int    `json:"channel_count"`
}

// channelJSON is a channel as the API shows it.
type channelJSON struct {
	ID        int64  `json:"id"`
	DeviceID  int64  `json:"device_id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	AlwaysOn  bool   `json:"always_on"`
	Stream    string `json:"stream"`
	Play      struct {
		FLV    string `json:"flv"`
		WSFLV  string `json:"ws_flv"`
		HLS    string `json:"hls"`
		WSFMP4 string `json:"ws_fmp4"`
	} `json:"play"`
}

// streamJSON is a running stream as GET /api/v1/streams shows it.
type streamJSON struct {
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	AlwaysOn   bool     `json:"always_on"`
	Codecs     []string `json:"codecs"`
	Resolution string   `json:"resolution"`
	Bitrate    int64    `json:"bitrate"`
	FPS        float64  `json:"fps"`
	Readers    int      `json:"readers"`
}

type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// addDevice adds an RTSP device and returns it with its single channel.
func (ta *testApp) addDevice(name, url string) (deviceJSON, channelJSON) {
	ta.t.Helper()
	var d deviceJSON
	ta.api("POST", "/api/v1/devices", map[string]any{"type": "rtsp", "name": name, "url": url}, http.StatusCreated, &d)
	var chans list[channelJSON]
	ta.api("GET", fmt.Sprintf("/api/v1/devices/%d/channels", d.ID), nil, http.StatusOK, &chans)
	if len(chans.Items) != 1 {
		ta.t.Fatalf("device %d has %d channels, want 1", d.ID, len(chans.Items))
	}
	return d, chans.Items[0]
}

// channel returns the current state of a channel.
func (ta *testApp) channel(id int64) channelJSON {
	ta.t.Helper()
	var ch channelJSON
	ta.api("GET", fmt.Sprintf("/api/v1/channels/%d", id), nil, http.StatusOK, &ch)
	return ch
}

// waitChannel polls a channel until cond holds and returns it.
func (ta *testApp) waitChannel(id int64, what string, cond func(channelJSON) bool) channelJSON {
	ta.t.Helper()
	var ch channelJSON
	eventually(ta.t, what, func() bool {
		ch = ta.channel(id)
		return cond(ch)
	}, func() string { return fmt.Sprintf("last %+v", ch) })
	return ch
}

// streamInfo returns the running stream called name from GET /streams.
func (ta *testApp) streamInfo(name string) (streamJSON, bool) {
	ta.t.Helper()
	var l list[streamJSON]
	ta.api("GET", "/api/v1/streams", nil, http.StatusOK, &l)
	for _, s := range l.Items {
		if s.Name == name {
			return s, true
		}
	}
	return streamJSON{}, false
}

// playURL is an absolute play URL with the token in the query, as a player
// that cannot send headers uses it.
func (ta *testApp) playURL(path string) string {
	return ta.base + path + "?token=" + ta.token
}

// wsURL is playURL for a WebSocket.
func (ta *testApp) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(ta.playURL(path), "http")
}

// eventually polls cond every 20 ms until it holds, failing the test after
// waitTimeout with what and the detail.
func eventually(t *testing.T, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			d := ""
			if detail != nil {
				d = ": " + detail()
			}
			t.Fatalf("timed out waiting for %s%s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newSource starts a testsrc RTSP server publishing the clips at path, closed
// when the test ends.
func newSource(t *testing.T, cfg testsrc.ServerConfig, path, video, audio string) *testsrc.Server {
	t.Helper()
	vc, err := testsrc.LoadVideo(video)
	if err != nil {
		t.Fatal(err)
	}
	var ac *testsrc.AudioClip
	if audio != "" {
		if ac, err = testsrc.LoadAudio(audio); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := testsrc.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddStream(path, vc, ac)
	return srv
}

// credURL returns an rtsp:// URL of srv's path with credentials.
func credURL(srv *testsrc.Server, user, password, path string) string {
	return "rtsp://" + user + ":" + password + "@" + srv.Addr() + "/" + path
}

// tmpDirs are removed by TestMain: they outlive single tests.
var (
	tmpMu   sync.Mutex
	tmpDirs []string
)

func runTempDir() (string, error) {
	dir, err := os.MkdirTemp("", "nvr-e2e-")
	if err != nil {
		return "", err
	}
	tmpMu.Lock()
	tmpDirs = append(tmpDirs, dir)
	tmpMu.Unlock()
	return dir, nil
}

// templateDB is a data dir where an app has started once (migrations run,
// admin user and token secret created), made once per test run.
var templateDB = sync.OnceValues(func() (string, error) {
	dir, err := runTempDir()
	if err != nil {
		return "", err
	}
	cfg := config.Default()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.SIP.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Admin.Password = adminPassword
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	a.shutdown()
	return dir, nil
})

// copyTemplate copies the files of templateDB into dir.
func copyTemplate(dir string) error {
	src, err := templateDB()
	if err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := runTempDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nvr")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/nvr")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// nvrBinary builds the real binary once per test run and returns its path.
func nvrBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// minParallel is the least number of tests run at once. The tests here
// mostly wait for media played in real time, not for a CPU, so running only
// GOMAXPROCS of them at once (go test's default) leaves the machine idle.
const minParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if p := flag.Lookup("test.parallel"); p != nil && !set && runtime.GOMAXPROCS(0) < minParallel {
		_ = p.Value.Set(strconv.Itoa(minParallel))
	}
	code := m.Run()
	if code == 0 {
		if err := checkGoroutines(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	for _, d := range tmpDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// checkGoroutines waits until no goroutine of ours, of the media libraries or
// of an HTTP connection is left once every test has cleaned up.
func checkGoroutines(grace time.Duration) error {
	markers := []string{
		"github.com/nvr/nvr/", "\nmain.", // our packages, and this one (package main)
		"github.com/bluenviron/", "github.com/gorilla/websocket",
		"net/http.(*conn).serve", "net/http.(*persistConn)", // server and client connections
	}
	deadline := time.Now().Add(grace)
	for {
		var leaked []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "checkGoroutines") || strings.Contains(g, "testing.(*M)") {
				continue
			}
			for _, m := range markers {
				if strings.Contains(g, m) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutines left after the tests:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
