package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/web"
)

// exitLimit is the specified bound on a shutdown: after SIGTERM the process
// exits, and every viewer's connection ends, within 5 s.
const exitLimit = 5 * time.Second

// listening matches the log line that gives the HTTP address.
var listening = regexp.MustCompile(`msg="http server listening" addr=(\S+)`)

// binEnv is the environment of the process without any NVR_* variable of
// the test's own environment, plus vars. The SIP server listens on a free
// port unless vars say otherwise: the default :5060 would make parallel
// processes collide.
func binEnv(vars ...string) []string {
	env := []string{"NVR_SIP_ADDR=127.0.0.1:0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NVR_") {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

// process is the nvr binary running as a child process.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// startBinary runs the binary with the environment and waits for it to
// listen; it returns the process and its HTTP address.
func startBinary(t *testing.T, env []string, args ...string) (*process, string) {
	t.Helper()
	p := &process{cmd: exec.Command(nvrBinary(t), args...), stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Dir = t.TempDir() // nothing may land in the source tree
	p.cmd.Env = env
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("nvr output:\n%s", p.stderr.String())
		}
	})
	var addr string
	eventually(t, "the listening log line", func() bool {
		if m := listening.FindStringSubmatch(p.stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		select {
		case <-p.exited:
			t.Fatalf("nvr exited before listening: %v\n%s", p.err, p.stderr.String())
		default:
		}
		return false
	}, nil)
	return p, addr
}

// clientFor is a testApp that talks to an app in another process.
func clientFor(t *testing.T, addr string) *testApp {
	ta := &testApp{t: t, base: "http://" + addr, http: &http.Client{Transport: &http.Transport{}}, rec: &recorder{}}
	t.Cleanup(ta.http.CloseIdleConnections)
	return ta
}

// TestBinaryLifecycle runs the real binary: first start with a generated
// admin password, a viewer, then SIGTERM.
func TestBinaryLifecycle(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	data := t.TempDir()
	p, addr := startBinary(t, binEnv("NVR_HTTP_ADDR=127.0.0.1:0", "NVR_DATA_DIR="+data))

	// No password configured: one was generated and written for the operator.
	pwFile := filepath.Join(data, web.InitialPasswordFile)
	fi, err := os.Stat(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", pwFile, fi.Mode().Perm())
	}
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	ta := clientFor(t, addr)
	st, body := ta.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "wrong"})
	wantError(t, "wrong password", st, body, http.StatusUnauthorized, "unauthorized")
	ta.token = ta.login("admin", strings.TrimSpace(string(pw)))

	_, ch := ta.addDevice("cam", src.URL("cam"))
	resp := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("FLV status %d", resp.StatusCode)
	}
	readFLV(t, resp.Body, flvWant{video: "H264", audio: "AAC"}, 200)
	viewer := drain(resp.Body)
	time.Sleep(100 * time.Millisecond)
	if viewer.ended() {
		t.Fatalf("the viewer's connection ended before SIGTERM: %v", viewer.err)
	}

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(exitLimit)
	for _, c := range []struct {
		what string
		ch   <-chan struct{}
	}{{"the process to exit", p.exited}, {"the viewer's connection to end", viewer.done}} {
		select {
		case <-c.ch:
		case <-timeout:
			t.Fatalf("waited %v for %s", exitLimit, c.what)
		}
	}
	took := time.Since(start)
	if p.err != nil {
		t.Fatalf("exit after SIGTERM: %v", p.err)
	}
	if took >= exitLimit {
		t.Errorf("shutdown took %v, the limit is %v", took, exitLimit)
	}
	t.Logf("exited %v after SIGTERM; the viewer read %d more bytes, then %v", took.Round(time.Millisecond), viewer.n, viewer.err)
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Errorf("no stopped log line")
	}
}

// drained is a body being read to its end in the background.
type drained struct {
	done chan struct{}
	n    int64
	err  error // nil at a clean end
}

func drain(r io.Reader) *drained {
	d := &drained{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.n, d.err = io.Copy(io.Discard, r)
	}()
	return d
}

func (d *drained) ended() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// TestBinaryConfiguredPassword starts the binary with NVR_ADMIN_PASSWORD:
// no password file is written and the configured password logs in.
func TestBinaryConfiguredPassword(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p, addr := startBinary(t, binEnv("NVR_HTTP_ADDR=127.0.0.1:0", "NVR_DATA_DIR="+data, "NVR_ADMIN_PASSWORD=configured-pw"))
	if _, err := os.Stat(filepath.Join(data, web.InitialPasswordFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("password file with a configured password: %v", err)
	}
	ta := clientFor(t, addr)
	ta.token = ta.login("admin", "configured-pw")
	if strings.Contains(p.stderr.String(), "configured-pw") {
		t.Error("the configured password is in the log")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(exitLimit):
		t.Fatalf("no exit %v after SIGTERM", exitLimit)
	}
	if p.err != nil {
		t.Fatalf("exit: %v", p.err)
	}
}

// TestBinaryBadConfig checks that a bad configuration stops the binary with
// a non-zero status and one line naming what to fix.
func TestBinaryBadConfig(t *testing.T) {
	t.Parallel()
	bin := nvrBinary(t)
	for _, c := range []struct {
		name string
		yaml string // config file, if any
		env  []string
		want []string // the line names one of these
	}{
		{name: "unknown top-level key", yaml: "http:\n  addr: 127.0.0.1:0\nbogus_key: 1\n", want: []string{`"bogus_key"`}},
		{name: "unknown nested key", yaml: "media:\n  idle_timout: 1s\n", want: []string{`"idle_timout" in media`}},
		{name: "bad NVR_HTTP_ADDR", env: []string{"NVR_HTTP_ADDR=bad"}, want: []string{"NVR_HTTP_ADDR", "http.addr"}},
		{name: "bad NVR_LOG_LEVEL", env: []string{"NVR_LOG_LEVEL=loud"}, want: []string{"NVR_LOG_LEVEL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var args []string
			if c.yaml != "" {
				f := filepath.Join(dir, "nvr.yaml")
				if err := os.WriteFile(f, []byte(c.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = []string{"-c", f}
			}
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Env = binEnv(append([]string{"NVR_DATA_DIR=" + filepath.Join(dir, "data")}, c.env...)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit %v, want a non-zero status; output:\n%s", err, out)
			}
			line := strings.TrimSpace(string(out))
			if strings.Contains(line, "\n") {
				t.Errorf("more than one line:\n%s", out)
			}
			named := false
			for _, w := range c.want {
				named = named || strings.Contains(line, w)
			}
			if !named {
				t.Errorf("%q names none of %q", line, c.want)
			}
		})
	}
}

// TestStartupFailureCleansUp: a start-up error (here the HTTP port is taken)
// is reported, not a panic, and what was already open is closed.
func TestStartupFailureCleansUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = ln.Addr().String()
	cfg.SIP.Addr = "127.0.0.1:0"
	cfg.Admin.Password = "x"
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		a.shutdown()
		t.Fatal("newApp succeeded on a taken port")
	}
	if !strings.Contains(err.Error(), "http.addr") {
		t.Fatalf("error %q does not name http.addr", err)
	}
}
