package onvif

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addSeeds adds every testdata file under the given directories.
func addSeeds(f *testing.F, dirs ...string) {
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// classified reports whether a reply error is one a caller can act on.
func classified(err error) bool {
	_, fault := errors.AsType[*FaultError](err)
	return fault || errors.Is(err, ErrNotONVIF) || errors.Is(err, ErrBadResponse) || errors.Is(err, ErrUnauthorized)
}

// FuzzSOAPResponse runs every reply parser (Media and Media2 included) on
// the input: none may panic, every error must be classified, and what
// parses must be sane. The seeds are every reply under testdata.
func FuzzSOAPResponse(f *testing.F) {
	addSeeds(f, "soap", "sim/hikvision", "sim/dahua", "sim/axis")
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error) {
			if err != nil && !classified(err) {
				t.Fatalf("%s: unclassified error %v", what, err)
			}
		}
		ps, err := decodeProfiles(data)
		check("profiles", err)
		for _, p := range ps {
			if v := p.Video; v != nil && (v.Width < 0 || v.Height < 0 || v.FPS < 0 || v.BitrateKbps < 0) {
				t.Fatalf("negative numbers in %+v", *v)
			}
		}
		_, err = decodeSystemDateAndTime(data)
		check("date", err)
		_, err = decodeDeviceInformation(data)
		check("info", err)
		_, err = decodeCapabilities(data)
		check("capabilities", err)
		_, err = decodeServices(data)
		check("services", err)
		uri, err := decodeMediaURI("GetStreamUriResponse")(data)
		check("stream uri", err)
		if err == nil && uri == "" {
			t.Fatal("empty URI without error")
		}
		_, err = decodePresets(data)
		check("presets", err)
		ps, err = decodeProfiles2(data)
		check("media2 profiles", err)
		for _, p := range ps {
			if v := p.Video; v != nil && (v.Width < 0 || v.Height < 0 || v.FPS < 0 || v.BitrateKbps < 0 || v.GovLength < 0) {
				t.Fatalf("negative numbers in %+v", *v)
			}
		}
		for _, op := range []string{"GetStreamUriResponse", "GetSnapshotUriResponse"} {
			uri, err := decodeMedia2URI(op)(data)
			check("media2 uri", err)
			if err == nil && uri == "" {
				t.Fatal("empty media2 URI without error")
			}
		}
		for _, status := range []int{200, 400, 401, 404, 500} {
			check("status", checkResponse(status, data, "GetProfilesResponse", &profilesResponseXML{}))
			if err := checkResponse(status, data, "StopResponse", nil); err == nil && status != 200 {
				t.Fatalf("HTTP %d accepted", status)
			}
		}
	})
}

// FuzzProbeMatch parses WS-Discovery datagrams.
func FuzzProbeMatch(f *testing.F) {
	addSeeds(f, "discovery", "sim/hikvision", "sim/dahua", "sim/axis")
	f.Add(buildProbe("urn:uuid:00000000-0000-4000-8000-000000000000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := parseProbeMatches(data)
		if err != nil {
			return
		}
		if len(ds) > maxMatchesPerMessage {
			t.Fatalf("%d matches", len(ds))
		}
		for _, d := range ds {
			if d.EndpointRef == "" && len(d.XAddrs) == 0 {
				t.Fatalf("useless match kept: %+v", d)
			}
			for _, ty := range d.Types {
				if strings.Contains(ty, ":") || ty == "" {
					t.Fatalf("type %q", ty)
				}
			}
			for _, x := range d.XAddrs {
				if x == "" || strings.ContainsAny(x, " \t\n") {
					t.Fatalf("xaddr %q", x)
				}
			}
		}
		var index = map[string]int{}
		var merged []Discovered
		for _, d := range ds {
			merged = merge(merged, index, d)
		}
		if len(merged) > len(ds) {
			t.Fatal("merge added devices")
		}
	})
}

// FuzzChallenge parses WWW-Authenticate headers and answers them.
func FuzzChallenge(f *testing.F) {
	for _, s := range []string{
		`Digest realm="IP Camera(C1234)", qop="auth", nonce="4e5468694e7a42694e7a4d364f44", stale="FALSE"`,
		`Basic realm="a, b", Digest realm="x\"y", nonce=abc, algorithm=SHA-256`,
		`Negotiate abc123==, Basic`,
		`Digest realm="cam", nonce="n", qop="auth-int", algorithm=MD5-sess, opaque="o"`,
		`Digest nonce="unterminated`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		cs := parseChallenges([]string{h, h})
		if len(cs) > maxChallenges {
			t.Fatalf("%d challenges", len(cs))
		}
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatal("empty scheme")
			}
			for i := 0; i < len(c.Scheme); i++ {
				if !isTokenChar(c.Scheme[i]) {
					t.Fatalf("scheme %q", c.Scheme)
				}
			}
		}
		auth, err := authorization(cs, "GET", "/snapshot.jpg?x=1", "user", "pass")
		if err == nil && auth != "" && !strings.HasPrefix(auth, "Basic ") && !strings.HasPrefix(auth, "Digest ") {
			t.Fatalf("authorization %q", auth)
		}
	})
}

// FuzzInsertHeader puts a Security element into arbitrary request bodies:
// a well-formed envelope must stay well-formed and hold the element once.
func FuzzInsertHeader(f *testing.F) {
	f.Add([]byte(envelopeHead + `<tds:GetDeviceInformation/>` + envelopeTail))
	f.Add([]byte(`<s:Envelope xmlns:s="x"><s:Header/><s:Body/></s:Envelope>`))
	f.Add([]byte(`<Envelope xmlns="x"><Body/></Envelope>`))
	f.Add([]byte(`<a:Envelope xmlns:a="x"><!-- c --><a:Header><x/></a:Header></a:Envelope>`))
	sec := []byte(`<wsse:Security xmlns:wsse="urn:x"><wsse:Username>u</wsse:Username></wsse:Security>`)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := insertHeader(body, sec)
		if err != nil {
			return
		}
		if bytes.Count(out, sec) != bytes.Count(body, sec)+1 {
			t.Fatal("security element not inserted exactly once")
		}
		if wellFormed(body) && !wellFormed(out) {
			t.Fatalf("broke a well-formed body:\n%s\n->\n%s", body, out)
		}
	})
}

func wellFormed(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return depth == 0 && roots == 1
		}
		if err != nil {
			return false
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok.(xml.CharData))) > 0 {
				return false
			}
		}
	}
}
