package main

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/gb"
	"github.com/nvr/nvr/sip/gbsim"
)

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The command runs devices that register, answer a catalog in their
// charset, and unregister when interrupted.
func TestRun(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			srv := &sip.Server{ListenAddr: "127.0.0.1:0", Password: "pw"}
			client := &gb.Client{Server: srv, QueryTimeout: 2 * time.Second, CatalogTimeout: 3 * time.Second}
			client.Initialize()
			srv.Handler = client
			if err := srv.Initialize(); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			defer client.Close()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr syncBuffer
			done := make(chan int)
			go func() {
				done <- run(ctx, []string{"-server", srv.Addr(), "-transport", tr, "-password", "pw",
					"-id", "34020000001180000010", "-count", "3", "-channels", "12", "-per-message", "5",
					"-charset", "utf8", "-dup-part", "2", "-swap-parts", "1:3", "-stats", "50ms", "-report"}, &stdout, &stderr)
			}()
			deadline := time.Now().Add(5 * time.Second)
			for len(srv.Registrations()) < 3 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			regs := srv.Registrations()
			if len(regs) != 3 || regs[0].DeviceID != "34020000001180000010" || regs[2].DeviceID != "34020000001180000012" {
				t.Fatalf("registrations %+v\n%s", regs, stderr.String())
			}
			items, complete, err := client.Catalog(context.Background(), "34020000001180000011")
			if err != nil || !complete || len(items) != 12 || items[0].Name == "" {
				t.Errorf("catalog: %d items, complete=%v, err=%v", len(items), complete, err)
			}
			if cs := client.Charset("34020000001180000011"); cs.String() != "UTF-8" {
				t.Errorf("charset %v", cs)
			}
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit code %d\n%s", code, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("run did not return")
			}
			if n := len(srv.Registrations()); n != 0 {
				t.Errorf("%d devices still registered after exit", n)
			}
			if out := stdout.String(); !strings.Contains(out, "3 devices started") || !strings.Contains(out, "3/3 registered") ||
				!strings.Contains(out, "registration report: first REGISTER at ") || !strings.Contains(out, "; 3/3 registered; 200 OK of 50% after ") {
				t.Errorf("stdout:\n%s", out)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags([]string{"-swap-parts", "2:3, 7:9", "-drop-parts", "4,5", "-charset", "gb2312"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.quirks.SwapParts, [][2]int{{2, 3}, {7, 9}}) || !reflect.DeepEqual(o.quirks.DropParts, []int{4, 5}) || o.quirks.UTF8 {
		t.Errorf("quirks %+v", o.quirks)
	}
	o, err = parseFlags([]string{"-own-ssrc", "-silent-channels", "2,3", "-invite-status", "486", "-invite-delay", "1s",
		"-drop-acks", "1", "-media-status-out-of-dialog", "-no-bye-at-end", "-ignore-cancel", "-media-ip", "10.0.0.9"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	q := o.quirks
	if !q.OwnSSRC || !reflect.DeepEqual(o.silent, []int{2, 3}) || q.InviteStatus != 486 || q.InviteDelay != time.Second ||
		q.DropACKs != 1 || !q.MediaStatusOutOfDialog || !q.NoByeAtEnd || !q.IgnoreCancel || o.mediaIP != "10.0.0.9" || o.media != "none" {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{
		{"-charset", "latin1"}, {"-id", "123"}, {"-count", "0"}, {"-transport", "sctp"},
		{"-swap-parts", "2-3"}, {"-drop-parts", "x"}, {"-drop-parts", "0"},
		{"-invite-status", "200"}, {"-media", "h264"}, {"-silent-channels", "0"},
	} {
		if _, err := parseFlags(bad, &stderr); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if code := run(context.Background(), []string{"-count", "0"}, &stderr, &stderr); code != 2 {
		t.Errorf("bad flags: exit %d", code)
	}
	if got := deviceID(gbsim.MakeID(132, 999999), 2); got != "34020000001320000001" {
		t.Errorf("deviceID wraps to %s", got)
	}
}

// The devices answer INVITEs (no media wired: nothing is sent), except on
// the silent channels.
func TestRunInvite(t *testing.T) {
	srv := &sip.Server{ListenAddr: "127.0.0.1:0", Password: "pw", InviteTimeout: 300 * time.Millisecond}
	if err := srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-server", srv.Addr(), "-password", "pw", "-id", "34020000001180000020",
			"-channels", "2", "-silent-channels", "2", "-stats", "0"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Registrations()) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	req := sip.InviteRequest{DeviceID: "34020000001180000020", ChannelID: "34020000001310000039", IP: "127.0.0.1", Port: 30000}
	d, err := srv.Invite(context.Background(), req)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if a := d.Answer(); a.Port != gbsim.DefaultMediaPort || a.IP != "127.0.0.1" {
		t.Errorf("answer %+v", a)
	}
	if err := d.Bye(context.Background()); err != nil {
		t.Error(err)
	}
	req.ChannelID = "34020000001310000040" // device serial 20, 2 channels each: 39 and 40
	if _, err := srv.Invite(context.Background(), req); !errors.Is(err, sip.ErrTimeout) {
		t.Errorf("silent channel: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
}
