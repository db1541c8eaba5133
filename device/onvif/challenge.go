package onvif

import (
	"strings"
)

// challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1): a scheme and its parameters, names lower-cased.
type challenge struct {
	Scheme string
	Params map[string]string
}

// maxChallenges bounds what parseChallenges returns; a header with more is
// not one a camera sends.
const maxChallenges = 16

// parseChallenges parses WWW-Authenticate header values. A value may hold
// several challenges separated by commas, so a comma followed by a token and
// no "=" starts a new challenge. token68 forms are kept under the key "".
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		p := authParser{s: v}
		for len(out) < maxChallenges {
			p.skipSpaceAndCommas()
			if p.done() {
				break
			}
			scheme := p.token()
			if scheme == "" {
				p.skipTo(',') // garbage: skip to the next element
				continue
			}
			c := challenge{Scheme: scheme, Params: map[string]string{}}
			p.params(c.Params)
			out = append(out, c)
		}
	}
	return out
}

type authParser struct {
	s string
	i int
}

func (p *authParser) done() bool { return p.i >= len(p.s) }

func (p *authParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *authParser) skipSpaceAndCommas() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *authParser) skipTo(c byte) {
	for p.i < len(p.s) && p.s[p.i] != c {
		p.i++
	}
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *authParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string; p.i is at the opening quote.
func (p *authParser) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String() // unterminated: take what there is
}

// params reads auth-params (or a token68) until the next challenge.
func (p *authParser) params(into map[string]string) {
	for {
		p.skipSpaceAndCommas()
		if p.done() {
			return
		}
		save := p.i
		name := p.token()
		p.skipSpace()
		if name == "" {
			p.skipTo(',')
			continue
		}
		if p.done() || p.s[p.i] != '=' {
			// A token without "=": the next challenge's scheme.
			p.i = save
			return
		}
		p.i++ // '='
		// token68 ends with '=' padding: "abc==".
		if p.i < len(p.s) && p.s[p.i] == '=' {
			for p.i < len(p.s) && p.s[p.i] == '=' {
				p.i++
			}
			into[""] = p.s[save:p.i]
			continue
		}
		p.skipSpace()
		var val string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			val = p.quoted()
		} else {
			val = p.token()
		}
		into[strings.ToLower(name)] = val
	}
}
