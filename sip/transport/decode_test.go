package transport

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ghettovoice/gosip/sip"
	"github.com/ghettovoice/gosip/sip/parser"
)

var testRemote = netip.MustParseAddrPort("127.0.0.1:40000")

func newTestDecoder() *decoder {
	return &decoder{parser: parser.NewPacketParser(quietLogger(slog.New(slog.DiscardHandler))), maxBodySize: DefaultMaxBodySize}
}

func readDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in testdata/%s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestDecodeValid(t *testing.T) {
	d := newTestDecoder()
	for name, data := range readDir(t, "valid") {
		t.Run(name, func(t *testing.T) {
			msg, err := d.decode(data, "UDP", testRemote, "127.0.0.1:5060")
			if err != nil {
				t.Fatal(err)
			}
			if msg.Source() != testRemote.String() {
				t.Errorf("source = %s, want %s", msg.Source(), testRemote)
			}
			if msg.Transport() != "UDP" {
				t.Errorf("transport = %s", msg.Transport())
			}
			if req, ok := msg.(sip.Request); ok {
				res := sip.NewResponseFromRequest("", req, 200, "OK", "")
				if res.Destination() != testRemote.String() {
					t.Errorf("a response would go to %s, want the packet's source %s", res.Destination(), testRemote)
				}
			}
			if strings.HasPrefix(name, "message_") {
				if !strings.HasPrefix(msg.Body(), "<?xml") || !strings.HasSuffix(msg.Body(), "</Notify>\r\n") {
					t.Errorf("body = %q", msg.Body())
				}
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	d := newTestDecoder()
	want := map[string]int{ // status answered; 0 = dropped
		"garbage.bin":            0,
		"truncated_body.sip":     400,
		"no_via.sip":             0,
		"cseq_mismatch.sip":      400,
		"bad_content_length.sip": 400,
		"truncated_headers.sip":  0,
		"no_start_line.sip":      0,
	}
	for name, data := range readDir(t, "invalid") {
		t.Run(name, func(t *testing.T) {
			code, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			msg, err := d.decode(data, "UDP", testRemote, "127.0.0.1:5060")
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("decode = %v, %v; want a *Rejection", msg, err)
			}
			got := 0
			if rej.Request != nil {
				got = rej.Code
			}
			if got != code {
				t.Errorf("answered %d (%v), want %d", got, rej, code)
			}
		})
	}
}

func TestDecodeVia(t *testing.T) {
	const tmpl = "MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK1\r\n" +
		"From: <sip:34020000001320000001@3402000000>;tag=1\r\n" +
		"To: <sip:34020000002000000001@3402000000>\r\n" +
		"Call-ID: 1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
	for _, c := range []struct {
		name, sentBy        string
		received, rport     string // "" = absent, "-" = present without value
		wantReceived, wantR string
	}{
		{name: "NAT with rport", sentBy: "10.0.0.99:5060;rport", wantReceived: "127.0.0.1", wantR: "40000"},
		{name: "NAT without rport", sentBy: "10.0.0.99:5060", wantReceived: "127.0.0.1", wantR: ""},
		{name: "direct", sentBy: "127.0.0.1:40000;rport", wantReceived: "", wantR: "40000"},
		{name: "direct, no port", sentBy: "127.0.0.1", wantReceived: "", wantR: ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := strings.Replace(tmpl, "%s", c.sentBy, 1)
			msg, err := newTestDecoder().decode([]byte(data), "UDP", testRemote, "127.0.0.1:5060")
			if err != nil {
				t.Fatal(err)
			}
			hop, _ := msg.ViaHop()
			got := func(k string) string {
				v, ok := hop.Params.Get(k)
				if !ok || v == nil {
					return ""
				}
				return v.String()
			}
			if got("received") != c.wantReceived || got("rport") != c.wantR {
				t.Errorf("via = %s; want received=%q rport=%q", hop, c.wantReceived, c.wantR)
			}
			if msg.Source() != testRemote.String() {
				t.Errorf("source = %s", msg.Source())
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	d := newTestDecoder()
	d.maxBodySize = 100
	base := readDir(t, "valid")["message_extra_bytes.sip"]
	head, body, err := SplitDatagram(base)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 101)
	data := append(bytes.Replace(head, []byte("Content-Length: "+strconv.Itoa(len(body))), []byte("Content-Length: 101"), 1), "\r\n"...)
	data = append(data, big...)
	_, err = d.decode(data, "UDP", testRemote, "")
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Code != 413 || rej.Request == nil || !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("oversize body: %v", err)
	}
	if _, err := d.decode([]byte("\r\n\r\n"), "UDP", testRemote, ""); !errors.Is(err, errKeepalive) {
		t.Errorf("CRLF keep-alive: %v", err)
	}
}

// FuzzDecode feeds arbitrary datagrams to the inbound path (framing, gosip's
// parser, Via/rport handling). It must never panic; an accepted request
// must be answerable to its source.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, data := range readDir(f, dir) {
			f.Add(data)
		}
	}
	d := newTestDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := d.decode(data, "UDP", testRemote, "127.0.0.1:5060")
		if err != nil {
			var rej *Rejection
			if !errors.Is(err, errKeepalive) && !errors.As(err, &rej) {
				t.Fatalf("error is neither a Rejection nor a keep-alive: %v", err)
			}
			if rej != nil && rej.Request != nil {
				_ = sip.NewResponseFromRequest("", rej.Request, 400, "Bad Request", "").String()
			}
			return
		}
		if msg.Source() != testRemote.String() {
			t.Fatalf("source = %q", msg.Source())
		}
		if req, ok := msg.(sip.Request); ok {
			res := sip.NewResponseFromRequest("", req, 200, "OK", "")
			if res.Destination() != testRemote.String() {
				t.Fatalf("response destination = %q", res.Destination())
			}
			_ = res.String()
		}
	})
}
