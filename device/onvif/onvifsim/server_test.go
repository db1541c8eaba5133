package onvifsim

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startSim(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// tokenRequest builds a request with a UsernameToken made at created.
func tokenRequest(op, user, pass string, nonce []byte, created string) string {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(pass))
	return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Header>` +
		`<Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>` +
		`<Username>` + user + `</Username>` +
		`<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` + base64.StdEncoding.EncodeToString(h.Sum(nil)) + `</Password>` +
		`<Nonce>` + base64.StdEncoding.EncodeToString(nonce) + `</Nonce>` +
		`<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">` + created + `</Created>` +
		`</UsernameToken></Security></s:Header><s:Body><tds:` + op + `/></s:Body></s:Envelope>`
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/soap+xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestUsernameTokenCheck(t *testing.T) {
	s := startSim(t, Config{Username: "admin", Password: "pw", ClockOffset: -30 * time.Minute, AuthFailStatus: 400})
	now := s.Now().UTC()
	cases := []struct {
		name    string
		user    string
		pass    string
		nonce   string
		created time.Time
		ok      bool
	}{
		{"good", "admin", "pw", "n1", now, true},
		{"4s early", "admin", "pw", "n2", now.Add(-4 * time.Second), true},
		{"4s late", "admin", "pw", "n3", now.Add(4 * time.Second), true},
		{"host clock", "admin", "pw", "n4", time.Now(), false},
		{"7s late", "admin", "pw", "n5", now.Add(7 * time.Second), false},
		{"wrong password", "admin", "pW", "n6", now, false},
		{"wrong user", "root", "pw", "n7", now, false},
		{"replay", "admin", "pw", "n1", now, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := post(t, s.URL(), tokenRequest("GetDeviceInformation", c.user, c.pass, []byte(c.nonce), c.created.Format("2006-01-02T15:04:05.000Z")))
			if c.ok != (status == 200) {
				t.Fatalf("status %d: %s", status, body)
			}
			if !c.ok && (status != 400 || !strings.Contains(body, "ter:NotAuthorized")) {
				t.Errorf("refusal: %d %s", status, body)
			}
		})
	}
	// GetSystemDateAndTime needs no token.
	status, body := post(t, s.URL(), `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`)
	if status != 200 || !strings.Contains(body, "GetSystemDateAndTimeResponse") {
		t.Errorf("GetSystemDateAndTime: %d %s", status, body)
	}
}

func TestDigestCheck(t *testing.T) {
	s := startSim(t, Config{Username: "admin", Password: "pw", Vendor: VendorAxis})
	url := "http://" + s.Addr() + SnapshotPath + "?profile=x"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch := parseAuthParams(strings.TrimPrefix(resp.Header.Get("WWW-Authenticate"), "Digest "))
	if resp.StatusCode != 401 || ch["realm"] != "AXIS_ACCC8E000001" || ch["qop"] != "auth" {
		t.Fatalf("challenge %d %v", resp.StatusCode, ch)
	}
	md := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	uri := SnapshotPath + "?profile=x"
	for _, c := range []struct {
		pass, uri string
		want      int
	}{{"pw", uri, 200}, {"bad", uri, 401}, {"pw", "/other", 401}} {
		ha1 := md("admin:" + ch["realm"] + ":" + c.pass)
		resp := md(ha1 + ":" + ch["nonce"] + ":00000001:abc:auth:" + md("GET:"+c.uri))
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", fmt.Sprintf(`Digest username="admin", realm="%s", nonce="%s", uri="%s", qop=auth, nc=00000001, cnonce="abc", response="%s", opaque="%s"`, ch["realm"], ch["nonce"], c.uri, resp, ch["opaque"]))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != c.want {
			t.Errorf("%+v: status %d", c, r.StatusCode)
		}
		if c.want == 200 && (!bytes.Equal(b, s.Snapshot()) || r.Header.Get("Content-Type") != "image/jpeg") {
			t.Errorf("snapshot %d bytes, %s", len(b), r.Header.Get("Content-Type"))
		}
	}
}

func TestServerErrors(t *testing.T) {
	s := startSim(t, Config{})
	if r, err := http.Get("http://" + s.Addr() + "/index.html"); err != nil || r.StatusCode != 404 || r.Header.Get("Content-Type") != "text/html" {
		t.Errorf("unknown path: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	if r, err := http.Get(s.URL()); err != nil || r.StatusCode != 405 {
		t.Errorf("GET on the service: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	status, body := post(t, s.URL(), "not xml")
	if status != 400 || !strings.Contains(body, "ter:WellFormed") {
		t.Errorf("bad XML: %d %s", status, body)
	}
	status, body = post(t, s.URL(), `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetHostname/></s:Body></s:Envelope>`)
	if status != 500 || !strings.Contains(body, "ter:ActionNotSupported") {
		t.Errorf("unknown op: %d %s", status, body)
	}
	// A misbehaviour limited to one request.
	s.Misbehave("GetProfiles", Misbehaviour{Status: 503, Body: "busy", ContentType: "text/plain", Times: 1})
	getProfiles := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetProfiles/></s:Body></s:Envelope>`
	if status, body := post(t, s.URL(), getProfiles); status != 503 || body != "busy" {
		t.Errorf("misbehaviour: %d %s", status, body)
	}
	if status, _ := post(t, s.URL(), getProfiles); status != 200 {
		t.Errorf("after misbehaviour: %d", status)
	}
	if _, err := NewServer(Config{Vendor: "acme"}); err == nil {
		t.Error("unknown vendor accepted")
	}
}
