package digest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// vectors are known answers: two from the RFCs, three computed
// independently (Python hashlib) for a GB/T 28181 REGISTER.
var vectors = []struct {
	name string
	p    Params
	want string
}{
	{
		name: "RFC 2617 §3.5",
		p: Params{Username: "Mufasa", Realm: "testrealm@host.com", Password: "Circle Of Life",
			Method: "GET", URI: "/dir/index.html", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			Nc: "00000001", Cnonce: "0a4f113b", Qop: "auth"},
		want: "6629fae49393a05397450978507c4ef1",
	},
	{
		name: "RFC 7616 §3.9.1 MD5",
		p: Params{Algorithm: "MD5", Username: "Mufasa", Realm: "http-auth@example.org", Password: "Circle of Life",
			Method: "GET", URI: "/dir/index.html", Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			Nc: "00000001", Cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", Qop: "auth"},
		want: "8ca523f5e9506fed4657c9700eebdbec",
	},
	{
		name: "GB REGISTER without qop",
		p: Params{Username: "34020000001320000001", Realm: "3402000000", Password: "12345678",
			Method: "REGISTER", URI: "sip:34020000002000000001@3402000000", Nonce: "9bd055a1c8e5b6d1"},
		want: "c13d3d577aed20f01d6745f1d3e70af0",
	},
	{
		name: "GB REGISTER with qop, upper-case algorithm",
		p: Params{Algorithm: "MD5", Username: "34020000001320000001", Realm: "3402000000", Password: "12345678",
			Method: "REGISTER", URI: "sip:34020000002000000001@3402000000", Nonce: "9bd055a1c8e5b6d1",
			Nc: "00000002", Cnonce: "abc123", Qop: "auth"},
		want: "e222a8b1702a799852129c4151fb57f7",
	},
	{
		name: "GB REGISTER MD5-sess",
		p: Params{Algorithm: "md5-SESS", Username: "34020000001320000001", Realm: "3402000000", Password: "12345678",
			Method: "REGISTER", URI: "sip:34020000002000000001@3402000000", Nonce: "9bd055a1c8e5b6d1",
			Nc: "00000002", Cnonce: "abc123", Qop: "auth"},
		want: "9c5376a9df6a3df7b06d679d9c7aa9b5",
	},
}

func TestResponseVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := Response(v.p)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.want {
				t.Fatalf("response = %s, want %s", got, v.want)
			}
			a := Authorization{Username: v.p.Username, Realm: v.p.Realm, Nonce: v.p.Nonce, URI: v.p.URI,
				Response: v.want, Algorithm: v.p.Algorithm, Cnonce: v.p.Cnonce, Qop: v.p.Qop, Nc: v.p.Nc}
			if !a.Verify(v.p.Method, v.p.Password) {
				t.Error("Verify rejected the known answer")
			}
			a.Response = strings.ToUpper(v.want)
			if !a.Verify(v.p.Method, v.p.Password) {
				t.Error("Verify rejected the known answer in upper-case hex")
			}
			if a.Verify(v.p.Method, v.p.Password+"x") {
				t.Error("Verify accepted a wrong password")
			}
			if a.Verify("MESSAGE", v.p.Password) {
				t.Error("Verify accepted the wrong method")
			}
		})
	}
}

func TestResponseUnsupported(t *testing.T) {
	for _, p := range []Params{{Algorithm: "SHA-256"}, {Qop: "auth-int"}} {
		if _, err := Response(p); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("%+v: err = %v, want ErrAlgorithm", p, err)
		}
	}
	a := Authorization{Username: "u", Nonce: "n", Response: "r", Algorithm: "SHA-256"}
	if a.Verify("REGISTER", "pw") {
		t.Error("Verify accepted an unsupported algorithm")
	}
}

// parseCases drives the parser tests and seeds the fuzzer.
var parseCases = []struct {
	name   string
	in     string
	scheme string
	params map[string]string
}{
	{
		name:   "RFC 2617 §3.5 Authorization",
		in:     `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
		scheme: "Digest",
		params: map[string]string{"username": "Mufasa", "realm": "testrealm@host.com", "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
			"uri": "/dir/index.html", "qop": "auth", "nc": "00000001", "cnonce": "0a4f113b",
			"response": "6629fae49393a05397450978507c4ef1", "opaque": "5ccc069c403ebaf9f0171e9517f40e41"},
	},
	{
		name:   "Hikvision style, unquoted algorithm",
		in:     `Digest username="34020000001320000001",realm="3402000000",nonce="abc",uri="sip:34020000002000000001@3402000000",response="0123",algorithm=MD5`,
		scheme: "Digest",
		params: map[string]string{"username": "34020000001320000001", "realm": "3402000000", "nonce": "abc",
			"uri": "sip:34020000002000000001@3402000000", "response": "0123", "algorithm": "MD5"},
	},
	{
		name:   "odd spacing, upper-case names, unquoted values",
		in:     "  digest   USERNAME = 3402 ,\tRealm=3402000000 ,, nonce = \"n n\" , algorithm = md5 ,",
		scheme: "digest",
		params: map[string]string{"username": "3402", "realm": "3402000000", "nonce": "n n", "algorithm": "md5"},
	},
	{
		name:   "no scheme",
		in:     `realm="3402000000", nonce="x"`,
		params: map[string]string{"realm": "3402000000", "nonce": "x"},
	},
	{
		name:   "escaped quote and comma inside quotes",
		in:     `Digest realm="a\"b,c", nonce="n\\"`,
		scheme: "Digest",
		params: map[string]string{"realm": `a"b,c`, "nonce": `n\`},
	},
	{
		name:   "unterminated quote",
		in:     `Digest realm="3402000000, nonce=x`,
		scheme: "Digest",
		params: map[string]string{"realm": "3402000000, nonce=x"},
	},
	{
		name:   "junk after closing quote, duplicate keeps first",
		in:     `Digest realm="a" x, realm="b", stale, qop="auth,auth-int"`,
		scheme: "Digest",
		params: map[string]string{"realm": "a", "stale": "", "qop": "auth,auth-int"},
	},
	{
		name:   "scheme only",
		in:     "Digest",
		scheme: "Digest",
		params: map[string]string{},
	},
	{
		name:   "empty",
		in:     "",
		params: map[string]string{},
	},
}

func TestParseParams(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			scheme, params, err := ParseParams(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if scheme != c.scheme {
				t.Errorf("scheme = %q, want %q", scheme, c.scheme)
			}
			if !reflect.DeepEqual(params, c.params) {
				t.Errorf("params = %q\nwant     %q", params, c.params)
			}
		})
	}
}

func TestParseParamsRejects(t *testing.T) {
	for _, in := range []string{`Digest re"alm=x`, strings.Repeat("a", MaxHeaderLen+1)} {
		if _, _, err := ParseParams(in); !errors.Is(err, ErrSyntax) {
			t.Errorf("%.40q: err = %v, want ErrSyntax", in, err)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	a, err := ParseAuthorization(parseCases[0].in)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Verify("GET", "Circle Of Life") {
		t.Error("RFC 2617 example does not verify after parsing")
	}
	for _, bad := range []struct {
		in   string
		want error
	}{
		{`Basic dXNlcjpwdw==`, ErrScheme},
		{`Digest realm="r", nonce="n", response="x"`, ErrMissingParam},
		{`Digest username="u", realm="r", nonce="n", response="x", qop=auth`, ErrMissingParam},
	} {
		if _, err := ParseAuthorization(bad.in); !errors.Is(err, bad.want) {
			t.Errorf("%q: err = %v, want %v", bad.in, err, bad.want)
		}
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	for _, c := range []Challenge{
		{Realm: "3402000000", Nonce: "abc", Algorithm: "MD5"},
		{Realm: "3402000000", Nonce: "abc", Algorithm: "MD5", Qop: []string{"auth"}, Stale: true, Opaque: `o"q`},
	} {
		s := c.String()
		got, err := ParseChallenge(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, c)
		}
	}
	if got := (Challenge{Realm: "3402000000", Nonce: "n"}).String(); got != `Digest realm="3402000000", nonce="n", algorithm=MD5` {
		t.Errorf("GB form = %s", got)
	}
	if _, err := ParseChallenge(`Digest nonce="n"`); !errors.Is(err, ErrMissingParam) {
		t.Errorf("missing realm: err = %v", err)
	}
	if _, err := ParseChallenge(`Bearer realm="x"`); !errors.Is(err, ErrScheme) {
		t.Errorf("Bearer: err = %v", err)
	}
}

func TestClientAuthorize(t *testing.T) {
	nonces := NewNonces(nil, time.Minute)
	const uri = "sip:34020000002000000001@3402000000"
	for _, c := range []struct {
		name    string
		ch      Challenge
		noQop   bool
		wantQop string
	}{
		{"no qop offered", Challenge{Realm: "3402000000", Nonce: nonces.New()}, false, ""},
		{"qop offered", Challenge{Realm: "3402000000", Nonce: nonces.New(), Qop: []string{"auth"}}, false, "auth"},
		{"qop offered, client ignores it", Challenge{Realm: "3402000000", Nonce: nonces.New(), Qop: []string{"auth"}}, true, ""},
		{"MD5-sess", Challenge{Realm: "3402000000", Nonce: nonces.New(), Algorithm: "MD5-sess", Qop: []string{"auth-int", "auth"}}, false, "auth"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := Client{Username: "34020000001320000001", Password: "12345678", NoQop: c.noQop}
			a, err := cl.Authorize(c.ch, "REGISTER", uri, 1, "c0ffee")
			if err != nil {
				t.Fatal(err)
			}
			if a.Qop != c.wantQop {
				t.Errorf("qop = %q, want %q", a.Qop, c.wantQop)
			}
			parsed, err := ParseAuthorization(a.String())
			if err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			if parsed != a {
				t.Errorf("round trip:\n got %+v\nwant %+v", parsed, a)
			}
			if !parsed.Verify("REGISTER", "12345678") {
				t.Error("server side rejects the client's answer")
			}
			if parsed.Verify("REGISTER", "wrong") {
				t.Error("server side accepts a wrong password")
			}
			if err := nonces.Check(parsed.Nonce); err != nil {
				t.Errorf("nonce: %v", err)
			}
		})
	}
}

func TestNonces(t *testing.T) {
	now := time.Unix(1700000000, 0)
	n := NewNonces([]byte("secret"), 30*time.Second)
	n.now = func() time.Time { return now }
	nonce := n.New()
	if len(nonce) != nonceLen {
		t.Fatalf("len = %d", len(nonce))
	}
	if nonce == n.New() {
		t.Error("two nonces are equal")
	}
	if err := n.Check(nonce); err != nil {
		t.Fatalf("fresh nonce: %v", err)
	}
	other := NewNonces([]byte("other"), 30*time.Second)
	other.now = n.now
	if err := other.Check(nonce); !errors.Is(err, ErrNonceInvalid) {
		t.Errorf("other secret: err = %v", err)
	}
	tampered := []byte(nonce)
	tampered[3] ^= 1
	if tampered[3] > 'f' || (tampered[3] > '9' && tampered[3] < 'a') {
		tampered[3] = '0'
	}
	for _, bad := range []string{"", "zz", string(tampered), strings.Repeat("g", nonceLen)} {
		if err := n.Check(bad); !errors.Is(err, ErrNonceInvalid) {
			t.Errorf("%q: err = %v, want ErrNonceInvalid", bad, err)
		}
	}
	now = now.Add(31 * time.Second)
	if err := n.Check(nonce); !errors.Is(err, ErrNonceStale) {
		t.Errorf("old nonce: err = %v, want ErrNonceStale", err)
	}
	now = now.Add(-10 * time.Minute)
	if err := n.Check(nonce); !errors.Is(err, ErrNonceStale) {
		t.Errorf("nonce from the future: err = %v, want ErrNonceStale", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	a, _ := Client{Username: "34020000001320000001", Password: "12345678"}.Authorize(
		Challenge{Realm: "3402000000", Nonce: "9bd055a1c8e5b6d1", Qop: []string{"auth"}},
		"REGISTER", "sip:34020000002000000001@3402000000", 1, "abc")
	s := a.String()
	for b.Loop() {
		p, err := ParseAuthorization(s)
		if err != nil || !p.Verify("REGISTER", "12345678") {
			b.Fatal("verify failed")
		}
	}
}
