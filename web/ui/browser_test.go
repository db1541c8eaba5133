package ui_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif/onvifsim"
	"github.com/nvr/nvr/media/testsrc"
)

// The browser smoke test runs the real nvr binary, an RTSP test camera and a headless
// Chromium, and uses the console as a person would: log in, see the device list, play the
// camera on the wall, close the tile, play its recording from the timeline.
//
// It needs Chromium (apt-get install -y chromium) and about 40 s. Like the tests that need
// ffmpeg, it skips when Chromium is missing, unless NVR_REQUIRE_TOOLS=1 (.ci/run), which
// makes that a failure; NVR_BROWSER_TESTS=0 skips it anyway. On its own:
//
//	go test -run TestBrowser -v ./web/ui/
//
// NVR_CHROMIUM names the browser (default: chromium, chromium-browser, google-chrome on
// PATH); NVR_BROWSER_SCREENSHOTS=<dir> saves a screenshot of each step.

const (
	browserEnv   = "NVR_BROWSER_TESTS"
	adminPW      = "console-smoke-pw"
	stepTimeout  = 45 * time.Second
	buildTimeout = 5 * time.Minute
)

func findChromium(t *testing.T) string {
	t.Helper()
	if os.Getenv(browserEnv) == "0" {
		t.Skipf("%s=0: the browser smoke test is skipped", browserEnv)
	}
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if v := os.Getenv("NVR_CHROMIUM"); v != "" {
		names = []string{v}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("NVR_REQUIRE_TOOLS") == "1" {
		t.Fatalf("no browser was found (%v) and NVR_REQUIRE_TOOLS=1: apt-get install -y chromium, or set NVR_CHROMIUM", names)
	}
	t.Skipf("no browser was found (%v): the browser smoke test is skipped (apt-get install -y chromium)", names)
	return ""
}

// nvrProcess is the nvr binary running with a test configuration.
type nvrProcess struct {
	t     *testing.T
	cmd   *exec.Cmd
	base  string // http://127.0.0.1:port
	token string
	logMu sync.Mutex
	log   bytes.Buffer
	done  chan struct{}
}

// startNVR builds cmd/nvr and runs it on 127.0.0.1 with a fresh data dir. It is stopped with
// SIGINT when the test ends.
func startNVR(t *testing.T) *nvrProcess {
	t.Helper()
	dir := t.TempDir()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build nvr: %v", err)
	}
	bin := filepath.Join(dir, "nvr")
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, "github.com/nvr/nvr/cmd/nvr").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/nvr: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "nvr.yaml")
	data := filepath.Join(dir, "data")
	yaml := fmt.Sprintf(`http:
  addr: 127.0.0.1:0
data_dir: %q
admin:
  password: %q
log:
  level: debug
  format: json
media:
  idle_timeout: 1s
hls:
  idle_timeout: 2s
rtsp:
  transport: tcp
  backoff_max: 2s
sip:
  addr: 127.0.0.1:0
recording:
  segment_duration: 2s
  min_free_bytes: 0
`, data, adminPW)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfg)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NVR_") { // the file decides, not the caller's environment
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nvrProcess{t: t, cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.logMu.Lock()
			p.log.Write(line)
			p.log.WriteByte('\n')
			p.logMu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "http server listening" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		_ = cmd.Wait()
		if t.Failed() {
			p.logMu.Lock()
			t.Logf("nvr log (last 20 kB):\n%s", tail(p.log.String(), 20000))
			p.logMu.Unlock()
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		t.Fatalf("nvr exited at start-up:\n%s", p.log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("nvr did not start listening")
	}
	var login struct{ Token string }
	p.api("POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPW}, http.StatusOK, &login)
	p.token = login.Token
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// api calls the API with the admin's token and decodes the answer, failing on another status.
func (p *nvrProcess) api(method, path string, body any, want int, out any) {
	p.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, r)
	if err != nil {
		p.t.Fatal(err)
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		p.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			p.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// readers returns the number of readers of a stream, 0 when it is not running.
func (p *nvrProcess) readers(stream string) int {
	var l struct {
		Items []struct {
			Name    string `json:"name"`
			Readers int    `json:"readers"`
		} `json:"items"`
	}
	p.api("GET", "/api/v1/streams", nil, http.StatusOK, &l)
	for _, s := range l.Items {
		if s.Name == stream {
			return s.Readers
		}
	}
	return 0
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Accounts of the simulated cameras.
const (
	camUser     = "admin"
	camPassword = "cam-pw"
)

func TestBrowserSmoke(t *testing.T) {
	chromium := findChromium(t)

	// An RTSP camera: H.264 320x240 with AAC, in a loop.
	cam := newSource(t, "cam")
	// An ONVIF camera (a PTZ dome with presets) whose profiles stream from another source.
	onvifSrc := newSource(t, "Profile_1", "Profile_2")
	dome, err := onvifsim.NewServer(onvifsim.Config{
		Username: camUser, Password: camPassword,
		RTSPURL:       "rtsp://" + onvifSrc.Addr() + "/{token}",
		DiscoveryAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dome.Close)

	nvr := startNVR(t)
	rtspCh := nvr.addRTSP("Smoke camera", cam.URL("cam"))
	deadCh := nvr.addRTSP("Dead camera", "rtsp://127.0.0.1:1/none")

	b := startBrowser(t, chromium)
	b.navigate(nvr.base + "/")
	tile := func(i int) string { return fmt.Sprintf(`document.querySelector('.tile[data-index="%d"]')`, i) }
	chanBtn := func(id int64) string { return fmt.Sprintf(`.chan-btn[data-channel-id="%d"]`, id) }

	t.Run("login", func(t *testing.T) {
		b.t = t
		b.waitFor("the login form", `document.getElementById('login-pass')`, stepTimeout)
		b.screenshot("1-login")
		// A wrong password shows the API's error.
		b.mustEval(`document.getElementById('login-pass').value = 'wrong'`, nil)
		b.click(`form.login button[type=submit]`)
		b.waitFor("the login error", `document.querySelector('.login .alert')?.textContent.includes('wrong username or password')`, stepTimeout)
		b.mustEval(`document.getElementById('login-pass').value = `+jsString(adminPW), nil)
		b.click(`form.login button[type=submit]`)
		b.waitFor("the token in sessionStorage", `sessionStorage.getItem('nvr.token')`, stepTimeout)
	})

	t.Run("device list", func(t *testing.T) {
		b.t = t
		b.waitFor("the device rows", `[...document.querySelectorAll('[data-testid=device-row]')].filter(r => r.textContent.includes('Smoke camera') || r.textContent.includes('Dead camera')).length === 2`, stepTimeout)
		b.screenshot("2-devices")
		checkPage(t, b, "devices")
		// The channels of a device unfold.
		b.click(fmt.Sprintf(`[data-key="toggle-%d"]`, rtspCh.DeviceID))
		b.waitFor("the channel row", fmt.Sprintf(`document.querySelector('tr[data-channel-id="%d"]')`, rtspCh.ID), stepTimeout)
	})

	t.Run("live tile plays", func(t *testing.T) {
		b.t = t
		b.mustEval(`location.hash = '#/wall'`, nil)
		b.waitFor("the channel list", `document.querySelector(`+jsString(chanBtn(rtspCh.ID))+`)`, stepTimeout)
		b.click(`.tile[data-index="0"]`)
		b.click(chanBtn(rtspCh.ID))
		b.waitFor("tile 1 to play", tile(0)+`.dataset.state === 'playing'`, stepTimeout)
		var size struct{ W, H int }
		b.mustEval(`(() => { const v = `+tile(0)+`.querySelector('video'); return {W: v.videoWidth, H: v.videoHeight}; })()`, &size)
		if size.W != 320 || size.H != 240 {
			t.Errorf("the tile's video is %dx%d, want 320x240", size.W, size.H)
		}
		b.screenshot("3-wall")
		checkPage(t, b, "wall")
		if n := nvr.readers(rtspCh.Stream); n != 1 {
			t.Errorf("%s has %d readers while one tile plays it", rtspCh.Stream, n)
		}
	})

	t.Run("a camera that goes away and comes back", func(t *testing.T) {
		b.t = t
		cam.Close()
		b.waitFor("tile 1 to wait for video", tile(0)+`.dataset.state === 'connecting'`, stepTimeout)
		// After a while without data the player gives up on the connection and retries.
		b.waitFor("tile 1 to be offline with the camera's error", tile(0)+`.dataset.state === 'offline' && `+tile(0)+`.querySelector('.tile-detail').textContent.includes('retrying in')`, stepTimeout)
		b.screenshot("4-camera-gone")
		if err := cam.Restart(); err != nil {
			t.Fatal(err)
		}
		b.waitFor("tile 1 to play again", tile(0)+`.dataset.state === 'playing'`, 60*time.Second)
	})

	t.Run("native HLS instead of MSE", func(t *testing.T) {
		b.t = t
		setMode := func(v string) {
			b.mustEval(`(() => { const s = document.getElementById('player-mode'); s.value = `+jsString(v)+`; s.dispatchEvent(new Event('change')); })()`, nil)
		}
		b.waitFor("the player choice", `document.getElementById('player-mode')`, stepTimeout)
		setMode("hls")
		b.waitFor("tile 1 to play HLS", tile(0)+`.dataset.state === 'playing' && `+tile(0)+`.querySelector('video').currentSrc.includes('/index.m3u8?token=')`, 60*time.Second)
		setMode("")
		b.waitFor("tile 1 to play MSE again", tile(0)+`.dataset.state === 'playing' && `+tile(0)+`.querySelector('video').currentSrc.startsWith('blob:')`, stepTimeout)
	})

	t.Run("an unreachable camera is shown offline with the reason", func(t *testing.T) {
		b.t = t
		b.click(`.tile[data-index="1"]`)
		b.click(chanBtn(deadCh.ID))
		b.waitFor("tile 2 to be offline", tile(1)+`.dataset.state === 'offline' && `+tile(1)+`.querySelector('.tile-detail').textContent.includes('refused')`, stepTimeout)
		b.screenshot("5-dead-camera")
		b.click(`.tile[data-index="1"] button[aria-label="Tile 2: close"]`)
		b.waitFor("tile 2 to empty", tile(1)+`.dataset.state === 'idle'`, stepTimeout)
	})

	var domeMain int64
	t.Run("ONVIF camera found and added through the forms", func(t *testing.T) {
		b.t = t
		b.mustEval(`location.hash = '#/devices'`, nil)
		b.waitFor("the devices page", `document.querySelector('#discover > summary')`, stepTimeout)
		b.click(`#discover > summary`)
		b.mustEval(`document.getElementById('disc-addrs').value = `+jsString(dome.DiscoveryAddr())+`; document.getElementById('disc-timeout').value = '1'`, nil)
		b.click(`#discover button[type=submit]`)
		b.waitFor("the camera in the results", `document.querySelector('.disc-results td.addr')?.textContent.includes(`+jsString(dome.XAddr())+`)`, stepTimeout)
		b.click(`.disc-results button`)
		b.waitFor("the ONVIF form", `document.getElementById('add-type').value === 'onvif' && document.getElementById('add-address').value === `+jsString(dome.XAddr()), stepTimeout)
		b.mustEval(`document.getElementById('add-username').value = `+jsString(camUser)+`; document.getElementById('add-password').value = `+jsString(camPassword), nil)
		b.click(`#add-device button[type=submit]`)
		b.waitFor("the camera in the list", `[...document.querySelectorAll('[data-testid=device-row]')].some(r => r.textContent.includes('HIKVISION') && r.textContent.includes('online'))`, stepTimeout)
		b.screenshot("6-onvif-added")
		domeMain = nvr.channelByName("HIKVISION DS-2DE4425IW-DE main").ID
		// Adding it twice shows the API's conflict.
		b.mustEval(`document.getElementById('add-address').value = `+jsString(dome.XAddr())+`; document.getElementById('add-username').value = `+jsString(camUser)+`; document.getElementById('add-password').value = `+jsString(camPassword), nil)
		b.click(`#add-device button[type=submit]`)
		b.waitFor("the conflict error", `document.querySelector('#add-device .alert')?.textContent.includes('conflict')`, stepTimeout)
	})

	t.Run("PTZ moves while held and stops on release", func(t *testing.T) {
		b.t = t
		if domeMain == 0 {
			t.Skip("no ONVIF camera")
		}
		b.mustEval(`location.hash = '#/wall'`, nil)
		b.waitFor("the ONVIF channel", `document.querySelector(`+jsString(chanBtn(domeMain))+`)`, stepTimeout)
		b.click(`.tile[data-index="2"]`)
		b.click(chanBtn(domeMain))
		b.click(`.tile[data-index="2"]`) // select it again: filling a tile moved on to the next
		b.waitFor("the PTZ panel", `!document.querySelector('.ptz-btn[aria-label="Right"]').disabled && document.querySelectorAll('.preset-list button').length >= 2`, stepTimeout)
		b.waitFor("tile 3 to play", tile(2)+`.dataset.state === 'playing'`, stepTimeout)

		// Mouse: press, hold, release.
		n := len(dome.PTZCalls())
		x, y := b.point(`.ptz-btn[aria-label="Right"]`, 0.5)
		b.mouse("mouseMoved", x, y)
		b.mouse("mousePressed", x, y)
		time.Sleep(400 * time.Millisecond)
		b.mouse("mouseReleased", x, y)
		moveThenStop(t, dome, n, func(c onvifsim.PTZCall) bool { return c.Pan > 0 && c.Tilt == 0 })

		// Keyboard: Space held on the Up button.
		n = len(dome.PTZCalls())
		b.mustEval(`document.querySelector('.ptz-btn[aria-label="Up"]').focus()`, nil)
		b.keyDown(" ")
		time.Sleep(300 * time.Millisecond)
		b.keyUp(" ")
		moveThenStop(t, dome, n, func(c onvifsim.PTZCall) bool { return c.Tilt > 0 && c.Pan == 0 })

		// Zoom, and a preset.
		n = len(dome.PTZCalls())
		b.clickAt(`.ptz-btn[aria-label="Zoom in"]`, 0.5)
		moveThenStop(t, dome, n, func(c onvifsim.PTZCall) bool { return c.Zoom > 0 })
		n = len(dome.PTZCalls())
		b.click(`.preset-list button`)
		waitUntil(t, "GotoPreset", stepTimeout, func() bool {
			calls := dome.PTZCalls()
			return len(calls) > n && calls[len(calls)-1].Op == "GotoPreset"
		})
		var msg string
		b.mustEval(`document.querySelector('.ptz .msg').textContent`, &msg)
		if msg != "" {
			t.Errorf("the PTZ panel shows %q", msg)
		}
		b.screenshot("7-ptz")
		checkPage(t, b, "wall with PTZ")
	})

	t.Run("closing tiles closes the streams", func(t *testing.T) {
		b.t = t
		b.click(`.tile[data-index="0"] button[aria-label="Tile 1: close"]`)
		b.waitFor("tile 1 to empty", tile(0)+`.dataset.state === 'idle'`, stepTimeout)
		waitUntil(t, "the stream to lose its reader", stepTimeout, func() bool { return nvr.readers(rtspCh.Stream) == 0 })
		b.click(`[data-action="close-all"]`)
		b.waitFor("every tile to empty", `[...document.querySelectorAll('.tile')].every(t => t.dataset.state === 'idle')`, stepTimeout)
		if domeMain != 0 {
			waitUntil(t, "the ONVIF stream to lose its reader", stepTimeout, func() bool { return nvr.readers(fmt.Sprintf("ch%d", domeMain)) == 0 })
		}
	})

	t.Run("playback from the timeline", func(t *testing.T) {
		b.t = t
		nvr.api("PUT", fmt.Sprintf("/api/v1/channels/%d/recording", rtspCh.ID), map[string]any{"mode": "continuous"}, http.StatusOK, nil)
		day := time.Now()
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.Local)
		q := fmt.Sprintf("/api/v1/channels/%d/recordings?start=%s&end=%s", rtspCh.ID,
			start.UTC().Format(time.RFC3339), start.AddDate(0, 0, 1).UTC().Format(time.RFC3339))
		waitUntil(t, "6 s of recordings", 90*time.Second, func() bool {
			var l struct {
				Ranges []struct{ Start, End time.Time } `json:"ranges"`
			}
			nvr.api("GET", q, nil, http.StatusOK, &l)
			return len(l.Ranges) > 0 && l.Ranges[0].End.Sub(l.Ranges[0].Start) >= 6*time.Second
		})
		b.mustEval(fmt.Sprintf(`location.hash = '#/playback?channel=%d'`, rtspCh.ID), nil)
		b.waitFor("a recorded range on the timeline", `document.querySelector('.tl-range')`, stepTimeout)
		b.waitFor("today marked in the calendar", `document.querySelector('.cal-day.has-rec[aria-pressed="true"]')`, stepTimeout)
		playing := `(() => { const v = document.querySelector('.pb-video video'); return v.currentTime > 1 && !v.paused; })()`
		// Click at the start of the range (at 24 h a few seconds are a pixel or two).
		b.clickAt(`.tl-range`, 0)
		b.waitFor("the recording to play", playing, stepTimeout)
		b.screenshot("8-playback")
		// The keyboard way: Home goes to midnight, Enter plays from the first recording after it.
		b.mustEval(`document.querySelector('.tl-bar').focus()`, nil)
		b.key("Home")
		b.key("Enter")
		b.waitFor("the status to tell of the jump", `document.querySelector('.pb-status').textContent.includes('Nothing recorded at 00:00:00; playing from')`, stepTimeout)
		b.waitFor("the recording to play again", playing, stepTimeout)
		checkPage(t, b, "playback")
		// A download of a range without recordings shows the API's error instead of saving it.
		b.mustEval(`document.getElementById('pb-from').value = '00:00:00'; document.getElementById('pb-to').value = '00:05:00'`, nil)
		b.click(`form.download button[type=submit]`)
		b.waitFor("the download error", `document.querySelector('form.download .alert')?.textContent.includes('no recording in the range')`, stepTimeout)
	})

	t.Run("phone width", func(t *testing.T) {
		b.t = t
		b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}, nil)
		for _, route := range []string{"devices", "wall", "playback"} {
			b.mustEval(`location.hash = '#/`+route+`'`, nil)
			b.waitFor(route+" to render", `document.title.startsWith(`+jsString(map[string]string{"devices": "Devices", "wall": "Live", "playback": "Playback"}[route])+`)`, stepTimeout)
			time.Sleep(300 * time.Millisecond)
			var overflow int
			b.mustEval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow)
			if overflow > 1 {
				t.Errorf("%s is %d px wider than a 390 px phone", route, overflow)
			}
			b.screenshot("9-phone-" + route)
		}
		b.call("Emulation.clearDeviceMetricsOverride", nil, nil)
	})

	t.Run("logging out", func(t *testing.T) {
		b.t = t
		b.click(`.topbar button`)
		b.waitFor("the login form", `document.getElementById('login-pass') && !sessionStorage.getItem('nvr.token')`, stepTimeout)
	})

	b.t = t
	var errs []string
	for _, e := range b.pageErrors() {
		switch {
		case strings.Contains(e, "401") && strings.Contains(e, "/api/v1/auth/login"):
			// The wrong password above: Chromium logs every 4xx answer of a fetch.
		case strings.Contains(e, "409") && strings.Contains(e, "/api/v1/devices"):
			// The camera added twice.
		case strings.Contains(e, "404") && strings.Contains(e, "/export.mp4"):
			// The download of a range without recordings.
		case strings.Contains(e, "/ws/live/"+deadCh.Stream+".mp4"):
			// The unreachable camera: its refused WebSocket upgrades.
		default:
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
}

// newSource starts an RTSP test camera publishing H.264 (320x240) with AAC at each path.
func newSource(t *testing.T, paths ...string) *testsrc.Server {
	t.Helper()
	srv, err := testsrc.NewServer(testsrc.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, p := range paths {
		video, err := testsrc.LoadVideo(testsrc.ClipH264)
		if err != nil {
			t.Fatal(err)
		}
		audio, err := testsrc.LoadAudio(testsrc.ClipAAC)
		if err != nil {
			t.Fatal(err)
		}
		srv.AddStream(p, video, audio)
	}
	return srv
}

// channelJSON is the part of a channel the test uses.
type channelJSON struct {
	ID       int64  `json:"id"`
	DeviceID int64  `json:"device_id"`
	Name     string `json:"name"`
	Stream   string `json:"stream"`
}

// addRTSP adds an RTSP camera through the API and returns its channel.
func (p *nvrProcess) addRTSP(name, url string) channelJSON {
	p.t.Helper()
	var dev struct {
		ID int64 `json:"id"`
	}
	p.api("POST", "/api/v1/devices", map[string]any{"type": "rtsp", "name": name, "url": url}, http.StatusCreated, &dev)
	var l struct{ Items []channelJSON }
	p.api("GET", fmt.Sprintf("/api/v1/devices/%d/channels", dev.ID), nil, http.StatusOK, &l)
	if len(l.Items) != 1 {
		p.t.Fatalf("%s has channels %+v", name, l.Items)
	}
	return l.Items[0]
}

// channelByName returns the channel with the name.
func (p *nvrProcess) channelByName(name string) channelJSON {
	p.t.Helper()
	var l struct{ Items []channelJSON }
	p.api("GET", "/api/v1/channels", nil, http.StatusOK, &l)
	for _, c := range l.Items {
		if c.Name == name {
			return c
		}
	}
	p.t.Fatalf("no channel %q among %+v", name, l.Items)
	return channelJSON{}
}

// moveThenStop waits until the camera received, after its first n PTZ calls, a
// ContinuousMove that matches and then a Stop.
func moveThenStop(t *testing.T, cam *onvifsim.Server, n int, match func(onvifsim.PTZCall) bool) {
	t.Helper()
	waitUntil(t, "ContinuousMove then Stop", stepTimeout, func() bool {
		calls := cam.PTZCalls()
		moved := false
		for _, c := range calls[n:] {
			switch {
			case c.Op == "ContinuousMove" && match(c):
				moved = true
			case c.Op == "Stop" && moved:
				return true
			}
		}
		return false
	})
}

// checkPage checks what every page must have: each button a name a screen reader can say, and
// nothing wider than the window.
func checkPage(t *testing.T, b *browser, name string) {
	t.Helper()
	var unnamed []string
	b.mustEval(`[...document.querySelectorAll('button')].filter(x => !x.hidden && x.offsetParent !== null &&
		!(x.getAttribute('aria-label') || x.textContent).trim()).map(x => x.outerHTML.slice(0, 120))`, &unnamed)
	if len(unnamed) > 0 {
		t.Errorf("%s: buttons without a name: %q", name, unnamed)
	}
	var overflow int
	b.mustEval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow)
	if overflow > 1 {
		t.Errorf("%s is %d px wider than the window", name, overflow)
	}
}
