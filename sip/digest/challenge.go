package digest

import (
	"fmt"
	"strings"
)

// Algorithms this package computes (RFC 2617 §3.2.2.2). SHA-256 (RFC 7616)
// is not offered: GB/T 28181 devices speak MD5 only.
const (
	MD5     = "MD5"
	MD5Sess = "MD5-sess"
)

// QopAuth is the only quality of protection supported; auth-int would need
// the body hash and no GB device uses it.
const QopAuth = "auth"

// Challenge is a WWW-Authenticate: Digest value (RFC 2617 §3.2.1).
type Challenge struct {
	Realm     string
	Nonce     string
	Opaque    string
	Algorithm string   // "MD5" when empty
	Qop       []string // offered qop values; empty for the RFC 2069 form
	Stale     bool     // the previous nonce was good but expired: retry silently
}

// String formats the challenge as a header value, the form GB/T 28181
// §9.1.2.1 shows: Digest realm="…", nonce="…", algorithm=MD5.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString("Digest realm=")
	b.WriteString(quote(c.Realm))
	b.WriteString(", nonce=")
	b.WriteString(quote(c.Nonce))
	if c.Opaque != "" {
		b.WriteString(", opaque=")
		b.WriteString(quote(c.Opaque))
	}
	alg := c.Algorithm
	if alg == "" {
		alg = MD5
	}
	b.WriteString(", algorithm=")
	b.WriteString(token(alg))
	if len(c.Qop) > 0 {
		b.WriteString(", qop=")
		b.WriteString(quote(strings.Join(c.Qop, ",")))
	}
	if c.Stale {
		b.WriteString(", stale=true")
	}
	return b.String()
}

// OffersQop reports whether the challenge offers qop=auth.
func (c Challenge) OffersQop() bool {
	for _, q := range c.Qop {
		if strings.EqualFold(q, QopAuth) {
			return true
		}
	}
	return false
}

// ParseChallenge parses a WWW-Authenticate value. The scheme may be missing
// but must be Digest when present; realm and nonce are required.
func ParseChallenge(s string) (Challenge, error) {
	scheme, p, err := ParseParams(s)
	if err != nil {
		return Challenge{}, err
	}
	if scheme != "" && !strings.EqualFold(scheme, "Digest") {
		return Challenge{}, fmt.Errorf("%w: scheme %q", ErrScheme, scheme)
	}
	c := Challenge{
		Realm:     p["realm"],
		Nonce:     p["nonce"],
		Opaque:    p["opaque"],
		Algorithm: p["algorithm"],
		Stale:     strings.EqualFold(p["stale"], "true"),
	}
	for _, q := range strings.Split(p["qop"], ",") {
		if q = strings.TrimSpace(q); q != "" {
			c.Qop = append(c.Qop, q)
		}
	}
	if _, ok := p["realm"]; !ok {
		return c, fmt.Errorf("%w: realm", ErrMissingParam)
	}
	if c.Nonce == "" {
		return c, fmt.Errorf("%w: nonce", ErrMissingParam)
	}
	return c, nil
}
