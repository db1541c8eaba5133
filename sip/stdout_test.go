package sip

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// Nothing of the server, gosip included, writes to stdout or stderr: all
// of it goes through the injected slog logger.
func TestNothingOnStdout(t *testing.T) {
	rOut, wOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rErr, wErr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = wOut, wErr
	func() {
		defer func() { os.Stdout, os.Stderr = stdout, stderr }()
		s, _ := newTestServer(t, nil)
		raw := newRawUDP(t, s.Addr())
		raw.send([]byte("garbage\r\n\r\n"))
		raw.send(request("MESSAGE", goodHeaders[1:], nil, -1))
		d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Password = "wrong" })
		_, _ = d.Register(ctxTimeout(t, 3*time.Second))
		d = newSim(t, s, nvrID, nil)
		if _, err := d.Register(ctxTimeout(t, 3*time.Second)); err != nil {
			t.Error(err)
		}
		_ = s.SendMessage(ctxTimeout(t, 2*time.Second), nvrID, catalogQuery)
		_ = s.Close()
	}()
	_ = wOut.Close()
	_ = wErr.Close()
	out, _ := io.ReadAll(rOut)
	errOut, _ := io.ReadAll(rErr)
	if len(out) > 0 || len(errOut) > 0 {
		t.Errorf("stdout: %q\nstderr: %q", out, errOut)
	}
}
