package transport

import (
	"bufio"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dialAndSend connects to l and sends msg, then reads the answer.
func dialAndSend(t *testing.T, l *Layer, msg string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	res, err := ReadStreamMessage(r, DefaultMaxHeaderSize, DefaultMaxBodySize)
	if err != nil || !strings.HasPrefix(string(res), "SIP/2.0 200") {
		t.Fatalf("answer %q, %v", res, err)
	}
	return c, r
}

// Idle device connections cost no goroutine on Linux: 300 connections that
// each sent a request and wait add a handful at most (the poller).
func TestTCPIdleConnectionsNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is Linux only")
	}
	l := newHandleLayer(t, func(l *Layer) { handled(l, nil) })
	dialAndSend(t, l, rawRequest("TCP", "z9hG4bK-warm", 1)) // starts the poller
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	const conns = 300
	for i := range conns {
		dialAndSend(t, l, rawRequest("TCP", "z9hG4bK-idle"+string(rune('a'+i%26))+string(rune('a'+i/26)), 1))
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before+5 })
	waitFor(t, func() bool { return l.readersLent.Load() == 0 })
	l.mu.Lock()
	n := len(l.conns)
	l.mu.Unlock()
	if n != conns+1 {
		t.Errorf("%d connections tracked, want %d", n, conns+1)
	}
}

// A connection keeps working after it was idle, after RFC 5626 CRLF
// keep-alives, and with requests sent back to back; a peer that closes is
// forgotten by the layer and the poller.
func TestTCPConnectionLife(t *testing.T) {
	var calls *atomic.Int32
	l := newHandleLayer(t, func(l *Layer) { calls = handled(l, nil) })
	c, r := dialAndSend(t, l, rawRequest("TCP", "z9hG4bK-l1", 1))
	for i, in := range []string{"\r\n\r\n", "\r\n"} {
		if _, err := c.Write([]byte(in)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
		if _, err := c.Write([]byte(rawRequest("TCP", "z9hG4bK-l2"+string(rune('a'+i)), 2))); err != nil {
			t.Fatal(err)
		}
		if res, err := ReadStreamMessage(r, DefaultMaxHeaderSize, DefaultMaxBodySize); err != nil || !strings.HasPrefix(string(res), "SIP/2.0 200") {
			t.Fatalf("answer after keep-alive %q: %q, %v", in, res, err)
		}
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("%d requests handled, want 3", got)
	}
	_ = c.Close()
	waitFor(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.conns) == 0
	})
	if l.poll != nil {
		waitFor(t, func() bool {
			l.poll.mu.Lock()
			defer l.poll.mu.Unlock()
			return len(l.poll.conns) == 0
		})
	}
}

// A message that begins but never ends closes the connection after
// tcpPartialTimeout, while an idle connection stays open.
func TestTCPPartialMessageTimeout(t *testing.T) {
	old := tcpPartialTimeout
	tcpPartialTimeout = 200 * time.Millisecond
	t.Cleanup(func() { tcpPartialTimeout = old })
	l := newHandleLayer(t, func(l *Layer) { handled(l, nil) })
	idle, _ := dialAndSend(t, l, rawRequest("TCP", "z9hG4bK-p0", 1))
	stuck, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if _, err := stuck.Write([]byte(rawRequest("TCP", "z9hG4bK-p1", 1)[:60])); err != nil {
		t.Fatal(err)
	}
	_ = stuck.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := stuck.Read(make([]byte, 1)); err == nil {
		t.Fatal("the stuck connection got data instead of being closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the stuck connection was not closed")
	}
	time.Sleep(300 * time.Millisecond)
	// The idle one still answers.
	if _, err := idle.Write([]byte(rawRequest("TCP", "z9hG4bK-p2", 2))); err != nil {
		t.Fatal(err)
	}
	_ = idle.SetReadDeadline(time.Now().Add(3 * time.Second))
	if res, err := ReadStreamMessage(bufio.NewReader(idle), DefaultMaxHeaderSize, DefaultMaxBodySize); err != nil || !strings.HasPrefix(string(res), "SIP/2.0 200") {
		t.Fatalf("idle connection: %q, %v", res, err)
	}
}
