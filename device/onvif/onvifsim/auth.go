package onvifsim

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// usernameTokenXML is a wsse:UsernameToken, matched by local names.
type usernameTokenXML struct {
	Username string `xml:"Username"`
	Password struct {
		Type  string `xml:"Type,attr"`
		Value string `xml:",chardata"`
	} `xml:"Password"`
	Nonce   string `xml:"Nonce"`
	Created string `xml:"Created"`
}

// nonceMemory is how long used token nonces are remembered to refuse a
// replay; a replay older than that fails the Created check anyway.
const nonceMemory = 2 * TokenTolerance

// checkToken verifies a UsernameToken (Username Token Profile 1.0 §3.1)
// against the simulator's clock.
func (s *Server) checkToken(t *usernameTokenXML, now time.Time) error {
	if strings.TrimSpace(t.Username) != s.cfg.Username {
		return errors.New("unknown user")
	}
	pw := strings.TrimSpace(t.Password.Value)
	if strings.HasSuffix(t.Password.Type, "#PasswordText") {
		if subtle.ConstantTimeCompare([]byte(pw), []byte(s.cfg.Password)) != 1 {
			return errors.New("wrong password")
		}
		return nil
	}
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.Created))
	if err != nil {
		return fmt.Errorf("created: %v", err)
	}
	if d := created.Sub(now); d > TokenTolerance || d < -TokenTolerance {
		return fmt.Errorf("created %s is %s away from the device clock %s", created.Format(time.RFC3339), d.Round(time.Second), now.Format(time.RFC3339))
	}
	nonce, err := base64.StdEncoding.DecodeString(strings.TrimSpace(t.Nonce))
	if err != nil || len(nonce) == 0 {
		return errors.New("bad nonce")
	}
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(strings.TrimSpace(t.Created)))
	h.Write([]byte(s.cfg.Password))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(pw), []byte(want)) != 1 {
		return errors.New("wrong password digest")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, at := range s.tokenNonces {
		if now.Sub(at) > nonceMemory {
			delete(s.tokenNonces, n)
		}
	}
	key := string(nonce)
	if _, seen := s.tokenNonces[key]; seen {
		return errors.New("nonce replayed")
	}
	s.tokenNonces[key] = now
	return nil
}

// digestNonceLife is how long an HTTP digest nonce is accepted.
const digestNonceLife = 5 * time.Minute

// digestChallenge returns a WWW-Authenticate value with a fresh nonce
// (RFC 7616 §3.3, MD5, qop=auth).
func (s *Server) digestChallenge() string {
	b := make([]byte, 16)
	rand.Read(b)
	nonce := hex.EncodeToString(b)
	s.mu.Lock()
	now := time.Now()
	for n, at := range s.digestNonces {
		if now.Sub(at) > digestNonceLife {
			delete(s.digestNonces, n)
		}
	}
	s.digestNonces[nonce] = now
	s.mu.Unlock()
	return fmt.Sprintf(`Digest realm="%s", qop="auth", nonce="%s", opaque="%s", algorithm=MD5, stale="FALSE"`, s.style.realm, nonce, s.opaque)
}

// checkDigest verifies an Authorization: Digest header.
func (s *Server) checkDigest(r *http.Request) error {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return errors.New("no digest authorization")
	}
	p := parseAuthParams(rest)
	s.mu.Lock()
	_, known := s.digestNonces[p["nonce"]]
	s.mu.Unlock()
	if !known {
		return errors.New("unknown or expired nonce")
	}
	if p["username"] != s.cfg.Username || p["realm"] != s.style.realm {
		return errors.New("wrong user or realm")
	}
	if p["uri"] != r.URL.RequestURI() {
		return fmt.Errorf("uri %q does not match the request %q", p["uri"], r.URL.RequestURI())
	}
	if alg := p["algorithm"]; alg != "" && !strings.EqualFold(alg, "MD5") {
		return fmt.Errorf("algorithm %q", alg)
	}
	md := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	ha1 := md(s.cfg.Username + ":" + s.style.realm + ":" + s.cfg.Password)
	ha2 := md(r.Method + ":" + p["uri"])
	var want string
	if p["qop"] == "auth" {
		want = md(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	} else {
		want = md(ha1 + ":" + p["nonce"] + ":" + ha2)
	}
	if subtle.ConstantTimeCompare([]byte(p["response"]), []byte(want)) != 1 {
		return errors.New("wrong digest response")
	}
	return nil
}

// parseAuthParams splits `a="x", b=y` into a map. Quoted values may hold
// commas and backslash escapes.
func parseAuthParams(s string) map[string]string {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		name, rest, ok := strings.Cut(s, "=")
		if !ok {
			return out
		}
		name = strings.ToLower(strings.TrimSpace(name))
		rest = strings.TrimLeft(rest, " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val = b.String()
			if i < len(rest) {
				i++
			}
			s = rest[i:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val = strings.TrimSpace(rest[:end])
			s = rest[end:]
		}
		out[name] = val
	}
}
