package gbsim

import (
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	raw := "SIP/2.0 401 Unauthorized\r\n" +
		"v: SIP/2.0/UDP 10.0.0.99:5060;rport=40000;branch=z9hG4bKabc;received=127.0.0.1\r\n" +
		"Via: SIP/2.0/UDP proxy:5060;branch=z9hG4bKdef\r\n" +
		"From: <sip:34020000001320000001@3402000000>;tag=1\r\n" +
		"t: <sip:34020000001320000001@3402000000>;tag=2\r\n" +
		"CSeq: 2 REGISTER\r\n" +
		"WWW-Authenticate: Digest realm=\"3402000000\",\r\n nonce=\"n\", algorithm=MD5\r\n" +
		"Content-Length: 0\r\n\r\n"
	m, err := parseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.code != 401 || m.reason != "Unauthorized" || m.method != "" {
		t.Errorf("start line: %+v", m)
	}
	if m.branch() != "z9hG4bKabc" || len(m.all("via")) != 2 || m.cseqMethod() != "REGISTER" {
		t.Errorf("via/cseq: %q %d %q", m.branch(), len(m.all("via")), m.cseqMethod())
	}
	if got := m.get("www-authenticate"); got != `Digest realm="3402000000", nonce="n", algorithm=MD5` {
		t.Errorf("folded header = %q", got)
	}
	if userOf(m.get("To")) != "34020000001320000001" || param(m.get("to"), "tag") != "2" {
		t.Errorf("To = %q", m.get("to"))
	}

	req := "MESSAGE sip:34020000001320000001@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK1\r\n" +
		"From: <sip:34020000002000000001@3402000000>;tag=p\r\n" +
		"To: <sip:34020000001320000001@3402000000>\r\n" +
		"Call-ID: c\r\nCSeq: 9 MESSAGE\r\nContent-Length: 4\r\n\r\nbody"
	m, err = parseMessage([]byte(req))
	if err != nil {
		t.Fatal(err)
	}
	if m.method != "MESSAGE" || string(m.body) != "body" {
		t.Fatalf("request: %+v", m)
	}
	res := string(m.response(200, "OK", "dev"))
	for _, want := range []string{"SIP/2.0 200 OK\r\n", "Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK1\r\n",
		"To: <sip:34020000001320000001@3402000000>;tag=dev\r\n", "CSeq: 9 MESSAGE\r\n", "Content-Length: 0\r\n\r\n"} {
		if !strings.Contains(res, want) {
			t.Errorf("response lacks %q:\n%s", want, res)
		}
	}
	for _, bad := range []string{"", "hello", "SIP/2.0 abc OK\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"} {
		if _, err := parseMessage([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestMakeID(t *testing.T) {
	if got := MakeID(132, 1); got != "34020000001320000001" {
		t.Errorf("MakeID = %s", got)
	}
	if got := MakeID(118, 123456); len(got) != 20 || got[10:13] != "118" {
		t.Errorf("MakeID = %s", got)
	}
}

// FuzzParseMessage: the simulator reads whatever the platform sends; it
// must not panic on anything.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=b\r\nCSeq: 1 MESSAGE\r\n\r\n"))
	f.Add([]byte("MESSAGE sip:a@b SIP/2.0\r\nv: x\r\n y\r\nl: 2\r\n\r\nab"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMessage(data)
		if err != nil {
			return
		}
		_ = m.branch()
		_ = m.cseqMethod()
		_ = userOf(m.get("from"))
		if m.method != "" {
			_ = m.response(200, "OK", "t")
		}
	})
}
