package onvif

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPasswordDigest(t *testing.T) {
	// Computed by hand from the Username Token Profile formula.
	nonce := []byte("0123456789abcdef")
	created := "2024-05-01T08:30:15.000Z"
	h := sha1.Sum(append(append(append([]byte{}, nonce...), created...), "secret"...))
	want := base64.StdEncoding.EncodeToString(h[:])
	if got := passwordDigest(nonce, created, "secret"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSecurityHeader(t *testing.T) {
	at := time.Date(2024, 5, 1, 8, 30, 15, 123456789, time.FixedZone("CST", 8*3600))
	sec, err := securityHeader("ad<min>", "pw", at)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		UsernameToken struct {
			Username string
			Password struct {
				Type  string `xml:"Type,attr"`
				Value string `xml:",chardata"`
			}
			Nonce   string
			Created string
		}
	}
	if err := xml.Unmarshal(sec, &s); err != nil {
		t.Fatalf("%v\n%s", err, sec)
	}
	u := s.UsernameToken
	if u.Username != "ad<min>" || u.Created != "2024-05-01T00:30:15.123Z" || !strings.HasSuffix(u.Password.Type, "#PasswordDigest") {
		t.Errorf("token %+v", u)
	}
	nonce, err := base64.StdEncoding.DecodeString(u.Nonce)
	if err != nil || len(nonce) != nonceBytes {
		t.Fatalf("nonce %q: %v", u.Nonce, err)
	}
	if u.Password.Value != passwordDigest(nonce, u.Created, "pw") {
		t.Error("digest does not match nonce and created")
	}
}

func TestInsertHeader(t *testing.T) {
	sec := []byte("<SEC/>")
	cases := []struct{ in, want string }{
		{`<s:Envelope xmlns:s="x"><s:Header></s:Header><s:Body/></s:Envelope>`,
			`<s:Envelope xmlns:s="x"><s:Header><SEC/></s:Header><s:Body/></s:Envelope>`},
		{`<?xml version="1.0"?><soap-env:Envelope xmlns:soap-env="x"><soap-env:Header/><soap-env:Body/></soap-env:Envelope>`,
			`<?xml version="1.0"?><soap-env:Envelope xmlns:soap-env="x"><soap-env:Header><SEC/></soap-env:Header><soap-env:Body/></soap-env:Envelope>`},
		{`<s:Envelope xmlns:s="x"> <s:Body/></s:Envelope>`,
			`<s:Envelope xmlns:s="x"><s:Header><SEC/></s:Header> <s:Body/></s:Envelope>`},
		{`<Envelope xmlns="x"><Body/></Envelope>`,
			`<Envelope xmlns="x"><Header><SEC/></Header><Body/></Envelope>`},
		{`<s:Envelope xmlns:s="x"></s:Envelope>`,
			`<s:Envelope xmlns:s="x"><s:Header><SEC/></s:Header></s:Envelope>`},
		{`<s:Envelope xmlns:s="x"/>`,
			`<s:Envelope xmlns:s="x"><s:Header><SEC/></s:Header></s:Envelope>`},
	}
	for _, c := range cases {
		got, err := insertHeader([]byte(c.in), sec)
		if err != nil || string(got) != c.want {
			t.Errorf("insertHeader(%s)\n got %s, %v\nwant %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "<html/>", "not xml", "<s:Envelope"} {
		if _, err := insertHeader([]byte(bad), sec); err == nil {
			t.Errorf("insertHeader(%q) succeeded", bad)
		}
	}
}

func TestParseChallenges(t *testing.T) {
	cases := []struct {
		in   []string
		want []challenge
	}{
		{[]string{`Digest realm="IP Camera(C1234)", qop="auth", nonce="4e5468694e7a42694e7a4d364f44", stale="FALSE"`},
			[]challenge{{"Digest", map[string]string{"realm": "IP Camera(C1234)", "qop": "auth", "nonce": "4e5468694e7a42694e7a4d364f44", "stale": "FALSE"}}}},
		{[]string{`Basic realm="a, b", Digest realm="x\"y", nonce=abc, algorithm=SHA-256`},
			[]challenge{{"Basic", map[string]string{"realm": "a, b"}}, {"Digest", map[string]string{"realm": `x"y`, "nonce": "abc", "algorithm": "SHA-256"}}}},
		{[]string{`Negotiate abc123==`, `Basic`},
			[]challenge{{"Negotiate", map[string]string{"": "abc123=="}}, {"Basic", map[string]string{}}}},
		{[]string{`, ,Digest  nonce="unterminated`}, []challenge{{"Digest", map[string]string{"nonce": "unterminated"}}}},
	}
	for _, c := range cases {
		if got := parseChallenges(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseChallenges(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

// TestDigestRFC7616 checks the example of RFC 7616 §3.9.1.
func TestDigestRFC7616(t *testing.T) {
	for _, c := range []struct{ alg, response string }{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		ch := challenge{Scheme: "Digest", Params: map[string]string{
			"realm": "http-auth@example.org", "qop": "auth, auth-int", "algorithm": c.alg,
			"nonce":  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
			"opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
		}}
		got := digestAuthorization(&ch, "GET", "/dir/index.html", "Mufasa", "Circle of Life", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
		if m := regexp.MustCompile(`response="([0-9a-f]+)"`).FindStringSubmatch(got); m == nil || m[1] != c.response {
			t.Errorf("%s: %s", c.alg, got)
		}
		for _, part := range []string{`qop=auth,`, `nc=00000001`, `opaque="FQhe/`, `algorithm=` + c.alg} {
			if !strings.Contains(got, part) {
				t.Errorf("%s: %s lacks %s", c.alg, got, part)
			}
		}
	}
}

func TestAuthorizationChoice(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm="cam"`)
	h.Add("WWW-Authenticate", `Digest realm="cam", nonce="n1", qop="auth-int"`)
	h.Add("WWW-Authenticate", `Digest realm="cam", nonce="n2", qop="auth", algorithm=MD5`)
	got, err := authorization(parseChallenges(h.Values("WWW-Authenticate")), "GET", "/x", "u", "p")
	if err != nil || !strings.HasPrefix(got, "Digest ") || !strings.Contains(got, `nonce="n2"`) {
		t.Errorf("got %q, %v", got, err)
	}
	got, _ = authorization(parseChallenges([]string{`Basic realm="cam"`}), "GET", "/x", "u", "p")
	if got != "Basic dTpw" {
		t.Errorf("basic: %q", got)
	}
	got, err = authorization(parseChallenges([]string{`Digest nonce="n", algorithm=SHA-512-256`}), "GET", "/x", "u", "p")
	if got != "" || err == nil {
		t.Errorf("unsupported: %q, %v", got, err)
	}
}

func TestQuote(t *testing.T) {
	if got := quote(`a"b\c`); got != `"a\"b\\c"` {
		t.Error(got)
	}
	if !bytes.Equal([]byte(quote("")), []byte(`""`)) {
		t.Error("empty")
	}
}
