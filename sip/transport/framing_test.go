package transport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadStreamMessage(t *testing.T) {
	const msg = "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nbody"
	for _, c := range []struct {
		name    string
		in      string
		want    []string // messages in order
		wantErr error    // after them
	}{
		{"one", msg, []string{msg}, io.EOF},
		{"two back to back", msg + msg, []string{msg, msg}, io.EOF},
		{"CRLF keep-alives between", "\r\n\r\n" + msg + "\r\n\r\n\r\n" + msg, []string{msg, msg}, io.EOF},
		{"bare LF", strings.ReplaceAll("MESSAGE sip:a@b SIP/2.0\nl: 2\n\nab", "", ""),
			[]string{"MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nab"}, io.EOF},
		{"no Content-Length means no body", "OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n",
			[]string{"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"}, io.EOF},
		{"body cut short", strings.TrimSuffix(msg, "dy"), nil, io.ErrUnexpectedEOF},
		{"header cut short", msg[:30], nil, io.ErrUnexpectedEOF},
		{"bad Content-Length", "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n", nil, ErrBadContentLength},
		{"body over the limit", "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 101\r\n\r\n", nil, ErrBodyTooLarge},
		{"header over the limit", "MESSAGE sip:a@b SIP/2.0\r\n" + strings.Repeat("X: y\r\n", 100), nil, ErrHeaderTooLarge},
		{"one line over the limit", strings.Repeat("x", 300) + "\r\n\r\n", nil, ErrHeaderTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(c.in), 16)
			var got []string
			var err error
			for {
				var m []byte
				m, err = ReadStreamMessage(r, 256, 100)
				if err != nil {
					break
				}
				got = append(got, string(m))
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("messages:\n%q\nwant\n%q", got, c.want)
			}
			if !errors.Is(err, c.wantErr) {
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
		})
	}
}

func TestSplitDatagram(t *testing.T) {
	for _, c := range []struct {
		in, head, body string
		err            error
	}{
		{"A: 1\r\nl: 3\r\n\r\nabcdef", "A: 1\r\nl: 3\r\n", "abc", nil},
		{"A: 1\nB: 2\n\nxyz", "A: 1\r\nB: 2\r\n", "xyz", nil},
		{"A: 1\r\n", "A: 1\r\n", "", nil},
		{"A: 1\r\nContent-Length: 9\r\n\r\nabc", "A: 1\r\nContent-Length: 9\r\n", "", ErrTruncated},
		{"A: 1\r\nContent-Length: -1\r\n\r\n", "A: 1\r\nContent-Length: -1\r\n", "", ErrBadContentLength},
		{"A: 1\n\nbody with \r\n\r\n inside", "A: 1\r\n", "body with \r\n\r\n inside", nil},
	} {
		head, body, err := SplitDatagram([]byte(c.in))
		if string(head) != c.head || string(body) != c.body || !errors.Is(err, c.err) {
			t.Errorf("%q: %q %q %v; want %q %q %v", c.in, head, body, err, c.head, c.body, c.err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data := readDir(b, "valid")["register_auth_no_rport.sip"]
	d := newTestDecoder()
	for b.Loop() {
		if _, err := d.decode(data, "UDP", testRemote, "127.0.0.1:5060"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReadStreamMessage feeds arbitrary byte streams to the TCP framing,
// read through a small buffer so that lines and bodies span reads. It must
// never panic, never return a message longer than the limits allow, and a
// message it returns must start a new one: reading the same bytes again
// after it gives the same result.
func FuzzReadStreamMessage(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, data := range readDir(f, dir) {
			f.Add(data)
			f.Add(append(append([]byte("\r\n\r\n"), data...), data...)) // keep-alive, then two back to back
		}
	}
	const maxHeader, maxBody = 1024, 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for range 8 {
			msg, err := ReadStreamMessage(r, maxHeader, maxBody)
			if err != nil {
				return
			}
			if len(msg) > maxHeader+maxBody+4 {
				t.Fatalf("message of %d bytes, over the limits", len(msg))
			}
			head, body, err := SplitDatagram(msg)
			if err != nil {
				t.Fatalf("a framed message does not split: %v\n%q", err, msg)
			}
			if n, _, _ := ContentLength(head); n != len(body) {
				t.Fatalf("Content-Length %d, body %d bytes", n, len(body))
			}
		}
	})
}
