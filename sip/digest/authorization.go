package digest

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrAlgorithm is returned for an algorithm or qop this package does not
// compute.
var ErrAlgorithm = errors.New("digest: unsupported algorithm or qop")

// Authorization is an Authorization: Digest value (RFC 2617 §3.2.2).
type Authorization struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string
	Response  string
	Algorithm string // "MD5" when empty
	Cnonce    string
	Opaque    string
	Qop       string // "auth" or empty (RFC 2069 form)
	Nc        string // 8 hex digits when Qop is set
}

// ParseAuthorization parses an Authorization value. The scheme may be
// missing but must be Digest when present; username, nonce and response are
// required, and cnonce and nc when qop is present.
func ParseAuthorization(s string) (Authorization, error) {
	scheme, p, err := ParseParams(s)
	if err != nil {
		return Authorization{}, err
	}
	if scheme != "" && !strings.EqualFold(scheme, "Digest") {
		return Authorization{}, fmt.Errorf("%w: scheme %q", ErrScheme, scheme)
	}
	a := Authorization{
		Username:  p["username"],
		Realm:     p["realm"],
		Nonce:     p["nonce"],
		URI:       p["uri"],
		Response:  p["response"],
		Algorithm: p["algorithm"],
		Cnonce:    p["cnonce"],
		Opaque:    p["opaque"],
		Qop:       p["qop"],
		Nc:        p["nc"],
	}
	for _, req := range []struct{ name, v string }{
		{"username", a.Username}, {"nonce", a.Nonce}, {"response", a.Response},
	} {
		if req.v == "" {
			return a, fmt.Errorf("%w: %s", ErrMissingParam, req.name)
		}
	}
	if a.Qop != "" && (a.Cnonce == "" || a.Nc == "") {
		return a, fmt.Errorf("%w: cnonce and nc are required with qop", ErrMissingParam)
	}
	return a, nil
}

// String formats the value as a header. Algorithm, qop and nc are tokens and
// go unquoted (RFC 2617 §3.2.2); everything else is quoted.
func (a Authorization) String() string {
	var b strings.Builder
	b.WriteString("Digest username=")
	b.WriteString(quote(a.Username))
	b.WriteString(", realm=")
	b.WriteString(quote(a.Realm))
	b.WriteString(", nonce=")
	b.WriteString(quote(a.Nonce))
	b.WriteString(", uri=")
	b.WriteString(quote(a.URI))
	b.WriteString(", response=")
	b.WriteString(quote(a.Response))
	alg := a.Algorithm
	if alg == "" {
		alg = MD5
	}
	b.WriteString(", algorithm=")
	b.WriteString(token(alg))
	if a.Opaque != "" {
		b.WriteString(", opaque=")
		b.WriteString(quote(a.Opaque))
	}
	if a.Qop != "" {
		b.WriteString(", qop=")
		b.WriteString(token(a.Qop))
	}
	if a.Nc != "" {
		b.WriteString(", nc=")
		b.WriteString(token(a.Nc))
	}
	if a.Cnonce != "" {
		b.WriteString(", cnonce=")
		b.WriteString(quote(a.Cnonce))
	}
	return b.String()
}

// Verify reports whether the response matches the password for method
// (RFC 2617 §3.2.2.1). The hash covers the realm and URI the client used,
// which is what the client actually hashed; callers that care check
// a.Realm and a.URI separately. Hex case in the response is ignored: some
// devices send upper case.
func (a Authorization) Verify(method, password string) bool {
	want, err := a.ResponseFor(method, password)
	if err != nil {
		return false
	}
	got := strings.ToLower(a.Response)
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// ResponseFor computes the response a client knowing password would send.
func (a Authorization) ResponseFor(method, password string) (string, error) {
	return Response(Params{
		Algorithm: a.Algorithm, Username: a.Username, Realm: a.Realm, Password: password,
		Method: method, URI: a.URI, Nonce: a.Nonce, Cnonce: a.Cnonce, Nc: a.Nc, Qop: a.Qop,
	})
}

// Params are the inputs of the digest computation.
type Params struct {
	Algorithm string // MD5 (default) or MD5-sess, any case
	Username  string
	Realm     string
	Password  string
	Method    string
	URI       string
	Nonce     string
	Cnonce    string
	Nc        string
	Qop       string // "" or "auth"
}

// Response computes request-digest (RFC 2617 §3.2.2.1):
//
//	HA1 = MD5(username:realm:password)            (MD5-sess: MD5(HA1:nonce:cnonce))
//	HA2 = MD5(method:uri)
//	response = MD5(HA1:nonce:nc:cnonce:qop:HA2)   with qop
//	response = MD5(HA1:nonce:HA2)                 without (RFC 2069)
func Response(p Params) (string, error) {
	ha1 := md5hex(p.Username + ":" + p.Realm + ":" + p.Password)
	switch {
	case p.Algorithm == "" || strings.EqualFold(p.Algorithm, MD5):
	case strings.EqualFold(p.Algorithm, MD5Sess):
		ha1 = md5hex(ha1 + ":" + p.Nonce + ":" + p.Cnonce)
	default:
		return "", fmt.Errorf("%w: algorithm %q", ErrAlgorithm, p.Algorithm)
	}
	ha2 := md5hex(p.Method + ":" + p.URI)
	switch {
	case p.Qop == "":
		return md5hex(ha1 + ":" + p.Nonce + ":" + ha2), nil
	case strings.EqualFold(p.Qop, QopAuth):
		return md5hex(ha1 + ":" + p.Nonce + ":" + p.Nc + ":" + p.Cnonce + ":" + p.Qop + ":" + ha2), nil
	default:
		return "", fmt.Errorf("%w: qop %q", ErrAlgorithm, p.Qop)
	}
}

// Client holds what a device needs to answer challenges.
type Client struct {
	Username string
	Password string
	// NoQop answers in the RFC 2069 form even when qop=auth is offered, as
	// some cameras do.
	NoQop bool
}

// Authorize answers ch for a request with the given method and URI. nc is
// the count of requests made with this nonce, starting at 1; cnonce is the
// client nonce (any random string) and is only used with qop.
func (c Client) Authorize(ch Challenge, method, uri string, nc uint32, cnonce string) (Authorization, error) {
	a := Authorization{
		Username:  c.Username,
		Realm:     ch.Realm,
		Nonce:     ch.Nonce,
		URI:       uri,
		Algorithm: ch.Algorithm,
		Opaque:    ch.Opaque,
	}
	if a.Algorithm == "" {
		a.Algorithm = MD5
	}
	if ch.OffersQop() && !c.NoQop {
		a.Qop = QopAuth
		a.Nc = fmt.Sprintf("%08x", nc)
		a.Cnonce = cnonce
	} else if strings.EqualFold(a.Algorithm, MD5Sess) {
		a.Cnonce = cnonce
	}
	r, err := a.ResponseFor(method, c.Password)
	if err != nil {
		return Authorization{}, err
	}
	a.Response = r
	return a, nil
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
