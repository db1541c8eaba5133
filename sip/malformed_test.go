package sip

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
)

// request builds a hand-made request with the given extra header lines and
// body; contentLength < 0 writes the real length.
func request(method string, extra []string, body []byte, contentLength int) []byte {
	if contentLength < 0 {
		contentLength = len(body)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s sip:34020000002000000001@3402000000 SIP/2.0\r\n", method)
	b.WriteString("Via: SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bK" + token(6) + "\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", contentLength)
	b.Write(body)
	return b.Bytes()
}

var goodHeaders = []string{
	"From: <sip:34020000001320000001@3402000000>;tag=1",
	"To: <sip:34020000002000000001@3402000000>",
	"Call-ID: " + "c1",
	"CSeq: 1 MESSAGE",
	"Content-Type: Application/MANSCDP+xml",
}

func TestMalformedUDP(t *testing.T) {
	s, logs := newTestServer(t, func(s *Server) { s.MaxBodySize = 8 << 10 })
	raw := newRawUDP(t, s.Addr())
	for _, c := range []struct {
		name string
		data []byte
		want string // status line prefix expected back, "" = dropped
	}{
		{"garbage", []byte("\x00\x01\x02 hello \xff\xfe\r\n\r\n"), ""},
		{"HTTP", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ""},
		{"truncated headers", request("MESSAGE", goodHeaders, nil, -1)[:120], ""},
		{"body shorter than Content-Length", request("MESSAGE", goodHeaders, []byte("<Notify>"), 500), "SIP/2.0 400"},
		{"no From", request("MESSAGE", goodHeaders[1:], []byte("<Notify/>"), -1), "SIP/2.0 400"},
		{"CSeq of another method", request("MESSAGE", append(goodHeaders[:3:3], "CSeq: 1 REGISTER"), nil, -1), "SIP/2.0 400"},
		{"body over the limit", request("MESSAGE", goodHeaders, bytes.Repeat([]byte("x"), 20<<10), -1), "SIP/2.0 413"},
		{"CRLF keep-alive", []byte("\r\n\r\n"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw.send(c.data)
			got := raw.read(300 * time.Millisecond)
			if c.want == "" && got != "" {
				t.Errorf("answered %q", firstLine(got))
			}
			if c.want != "" && !strings.HasPrefix(got, c.want) {
				t.Errorf("answer %q, want %s", firstLine(got), c.want)
			}
		})
	}
	// A well-formed request on the same socket is still served.
	raw.send(request("MESSAGE", goodHeaders, []byte("<Notify/>"), -1))
	if got := raw.read(time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Errorf("good request after the bad ones: %q", firstLine(got))
	}
	// And so are devices.
	d := newSim(t, s, ipcID, nil)
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if logs.count("dropped malformed sip input") == 0 || logs.count("rejected sip request") == 0 {
		t.Errorf("missing log lines about the bad input")
	}
	st := s.TransportStats()
	if st.Dropped < 3 || st.Rejected < 4 {
		t.Errorf("stats = %+v", st)
	}
}

// A flood of garbage is logged at a limited rate and does not stop the
// server.
func TestGarbageFlood(t *testing.T) {
	s, logs := newTestServer(t, nil)
	raw := newRawUDP(t, s.Addr())
	for i := range 2000 {
		raw.send([]byte(fmt.Sprintf("junk %d\r\n\r\n", i)))
	}
	d := newSim(t, s, ipcID, nil)
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := logs.count("dropped malformed sip input"); n < 1 || n > 2 {
		t.Errorf("%d log lines for 2000 bad datagrams", n)
	}
}

func TestMalformedTCP(t *testing.T) {
	s, logs := newTestServer(t, nil)
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, bufio.NewReader(c)
	}
	tcpHeaders := append([]string(nil), goodHeaders...)

	t.Run("body over 1 MiB", func(t *testing.T) {
		c, r := dial()
		body := bytes.Repeat([]byte("x"), 1536<<10)
		go func() { _, _ = c.Write(request("MESSAGE", tcpHeaders, body, -1)) }()
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		line, _ := r.ReadString('\n')
		if !strings.HasPrefix(line, "SIP/2.0 413") {
			t.Fatalf("answer %q, want 413", line)
		}
		if _, err := io.Copy(io.Discard, r); err != nil && !isClosedErr(err) {
			t.Errorf("connection not closed: %v", err)
		}
	})
	t.Run("garbage then a good request", func(t *testing.T) {
		c, r := dial()
		_, _ = c.Write([]byte("hello there\r\nContent-Length: 3\r\n\r\nabc"))
		_, _ = c.Write(request("MESSAGE", tcpHeaders, []byte("<Notify/>"), -1))
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		line, _ := r.ReadString('\n')
		if !strings.HasPrefix(line, "SIP/2.0 200") {
			t.Fatalf("answer %q, want 200 for the good request", line)
		}
	})
	t.Run("endless header", func(t *testing.T) {
		c, r := dial()
		go func() { _, _ = c.Write(bytes.Repeat([]byte("X-Junk: 0123456789\r\n"), 5000)) }()
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.Copy(io.Discard, r); err != nil && !isClosedErr(err) {
			t.Errorf("connection not closed: %v", err)
		}
	})
	d := newSim(t, s, ipcID, func(c *gbsim.Config) { c.Transport = "tcp" })
	if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if logs.count("closing sip tcp connection") == 0 || logs.count("status=413") == 0 {
		t.Error("missing log lines")
	}
}

func isClosedErr(err error) bool {
	return strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "closed")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// Close releases every goroutine and socket.
func TestCloseLeavesNothing(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		s, _ := newTestServer(t, nil)
		for i, tr := range []string{"udp", "tcp", "udp", "tcp"} {
			d, err := gbsim.New(gbsim.Config{DeviceID: gbsim.MakeID(132, i+1), Password: "12345678", Server: s.Addr(), Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Register(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := s.SendMessage(ctxTimeout(t, 3*time.Second), d.ID(), catalogQuery); err != nil {
				t.Fatal(err)
			}
			_ = d.Close()
		}
		_ = s.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left over (base %d):\n%s", n-base, base, buf[:runtime.Stack(buf, true)])
	}
}
