package onvif

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// errDigestUnsupported is returned for a digest challenge this package
// cannot answer (an algorithm other than MD5/SHA-256 or their -sess forms,
// or only qop=auth-int).
var errDigestUnsupported = errors.New("unsupported HTTP digest challenge")

// httpAuth is an http.RoundTripper that answers an HTTP 401 challenge with
// Basic or Digest authentication (RFC 7617, RFC 7616) and sends the request
// once more. Credentials are never sent before the server asks, so a plain
// HTTP camera that does not ask never sees the password.
type httpAuth struct {
	base               http.RoundTripper
	username, password string
}

// RoundTrip implements http.RoundTripper.
func (t *httpAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.username == "" || req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(withBody(req, body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	auth, err := authorization(parseChallenges(resp.Header.Values("WWW-Authenticate")), req.Method, req.URL.RequestURI(), t.username, t.password)
	if err != nil || auth == "" {
		return resp, nil // nothing we can answer: let the caller see the 401
	}
	drainClose(resp.Body)
	r := withBody(req, body)
	r.Header.Set("Authorization", auth)
	return t.base.RoundTrip(r)
}

// withBody clones req with a fresh reader over body.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	if body == nil {
		r.Body = nil
		return r
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return r
}

// authorization answers the best challenge: Digest with SHA-256, Digest with
// MD5, then Basic. It returns "" when there is no challenge it can answer.
func authorization(chs []challenge, method, uri, username, password string) (string, error) {
	var basic bool
	var best *challenge
	bestRank := 0
	var firstErr error
	for i := range chs {
		c := &chs[i]
		switch {
		case strings.EqualFold(c.Scheme, "Basic"):
			basic = true
		case strings.EqualFold(c.Scheme, "Digest"):
			rank, err := digestRank(c)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if rank > bestRank {
				best, bestRank = c, rank
			}
		}
	}
	if best != nil {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return digestAuthorization(best, method, uri, username, password, hex.EncodeToString(b)), nil
	}
	if basic {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password)), nil
	}
	return "", firstErr
}

// digestRank says how much we prefer a digest challenge; 0 with an error
// when we cannot answer it.
func digestRank(c *challenge) (int, error) {
	if c.Params["nonce"] == "" {
		return 0, fmt.Errorf("%w: no nonce", errDigestUnsupported)
	}
	if q, ok := c.Params["qop"]; ok && !hasToken(q, "auth") {
		return 0, fmt.Errorf("%w: qop %q", errDigestUnsupported, q)
	}
	switch strings.ToUpper(c.Params["algorithm"]) {
	case "", "MD5", "MD5-SESS":
		return 1, nil
	case "SHA-256", "SHA-256-SESS":
		return 2, nil
	default:
		return 0, fmt.Errorf("%w: algorithm %q", errDigestUnsupported, c.Params["algorithm"])
	}
}

// hasToken reports whether the comma separated list s holds tok.
func hasToken(s, tok string) bool {
	for f := range strings.SplitSeq(s, ",") {
		if strings.EqualFold(strings.TrimSpace(f), tok) {
			return true
		}
	}
	return false
}

// digestAuthorization computes the Authorization value for a Digest
// challenge (RFC 7616 §3.4): qop=auth when offered, else the RFC 2069 form.
func digestAuthorization(c *challenge, method, uri, username, password, cnonce string) string {
	alg := strings.ToUpper(c.Params["algorithm"])
	var newHash func() hash.Hash = md5.New
	if strings.HasPrefix(alg, "SHA-256") {
		newHash = sha256.New
	}
	h := func(s string) string {
		x := newHash()
		io.WriteString(x, s)
		return hex.EncodeToString(x.Sum(nil))
	}
	realm, nonce := c.Params["realm"], c.Params["nonce"]
	const nc = "00000001"
	ha1 := h(username + ":" + realm + ":" + password)
	if strings.HasSuffix(alg, "-SESS") {
		ha1 = h(ha1 + ":" + nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	_, hasQop := c.Params["qop"]
	var resp string
	if hasQop {
		resp = h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	} else {
		resp = h(ha1 + ":" + nonce + ":" + ha2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username=%s, realm=%s, nonce=%s, uri=%s, response="%s"`,
		quote(username), quote(realm), quote(nonce), quote(uri), resp)
	if alg != "" {
		fmt.Fprintf(&b, ", algorithm=%s", c.Params["algorithm"])
	}
	if op, ok := c.Params["opaque"]; ok {
		fmt.Fprintf(&b, ", opaque=%s", quote(op))
	}
	if hasQop {
		fmt.Fprintf(&b, `, qop=auth, nc=%s, cnonce=%s`, nc, quote(cnonce))
	}
	return b.String()
}

// quote makes a quoted-string (RFC 9110 §5.6.4).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// drainClose reads a little of what is left of a body, so the connection
// can be reused, and closes it.
func drainClose(body io.ReadCloser) {
	io.CopyN(io.Discard, body, 64<<10)
	body.Close()
}
