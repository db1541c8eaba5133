// Package digest implements HTTP Digest access authentication (RFC 2617,
// RFC 7616) with MD5 as SIP uses it for REGISTER (RFC 3261 §22.4): the
// server's challenge and nonces, verification of a device's answer, and the
// client side for the device simulator. It is pure: no I/O, no clock except
// through Nonces.
//
// GB/T 28181 devices are loose with the header syntax: parameters arrive
// quoted or unquoted, with odd spacing, with the algorithm in either case and
// sometimes without the "Digest" scheme. The parser accepts all of that.
package digest

import (
	"errors"
	"fmt"
	"strings"
)

// MaxHeaderLen bounds the length of a header value the parser accepts. A
// real Authorization header is under 1 KiB; anything far larger is garbage or
// an attack, and parsing it costs time on the signalling path.
const MaxHeaderLen = 8 << 10

// Errors returned by the parsers.
var (
	// ErrSyntax is returned when a header value cannot be parsed at all.
	ErrSyntax = errors.New("digest: malformed header")
	// ErrScheme is returned when the header names a scheme other than Digest.
	ErrScheme = errors.New("digest: not a Digest header")
	// ErrMissingParam is returned when a required parameter is absent.
	ErrMissingParam = errors.New("digest: missing parameter")
)

// ParseParams splits a WWW-Authenticate or Authorization value into its
// scheme and its parameters. Parameter names are lower-cased; values are
// unquoted (backslash escapes resolved, RFC 7230 §3.2.6). It tolerates
// unquoted values, spaces around '=' and ',', an unterminated final quote,
// empty list elements and a missing scheme (scheme is then ""). For a
// repeated name the first value wins.
func ParseParams(s string) (scheme string, params map[string]string, err error) {
	if len(s) > MaxHeaderLen {
		return "", nil, fmt.Errorf("%w: header of %d bytes", ErrSyntax, len(s))
	}
	s = strings.TrimSpace(s)
	// The scheme is a leading token not followed by '='.
	if i := strings.IndexAny(s, " \t"); i > 0 && !strings.ContainsAny(s[:i], "=,\"") {
		scheme, s = s[:i], s[i+1:]
	} else if i < 0 && s != "" && !strings.ContainsAny(s, "=,\"") {
		return s, map[string]string{}, nil
	}
	params = make(map[string]string, 10)
	p := 0
	for p < len(s) {
		// Skip separators.
		for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == ',') {
			p++
		}
		if p >= len(s) {
			break
		}
		// Name.
		start := p
		for p < len(s) && s[p] != '=' && s[p] != ',' && s[p] != ' ' && s[p] != '\t' {
			if s[p] == '"' {
				return "", nil, fmt.Errorf("%w: quote in parameter name at %d", ErrSyntax, p)
			}
			p++
		}
		name := strings.ToLower(s[start:p])
		for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
			p++
		}
		if p >= len(s) || s[p] != '=' {
			// A name without a value: keep it so callers can see it.
			if _, dup := params[name]; !dup {
				params[name] = ""
			}
			continue
		}
		p++ // '='
		for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
			p++
		}
		var value string
		if p < len(s) && s[p] == '"' {
			p++
			var b strings.Builder
			for p < len(s) && s[p] != '"' {
				if s[p] == '\\' && p+1 < len(s) {
					p++
				}
				b.WriteByte(s[p])
				p++
			}
			p++ // closing quote, or past the end when unterminated
			value = b.String()
			// Anything after the closing quote up to the next comma is junk
			// some devices add (a stray space or quote); skip it.
			for p < len(s) && s[p] != ',' {
				p++
			}
		} else {
			start := p
			for p < len(s) && s[p] != ',' {
				p++
			}
			value = strings.TrimSpace(s[start:p])
		}
		if name == "" {
			continue
		}
		if _, dup := params[name]; !dup {
			params[name] = value
		}
	}
	return scheme, params, nil
}

// quote returns s as a quoted-string.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// token returns s unquoted when it is a token (RFC 7230 §3.2.6), as
// algorithm, qop and nc are written, and quoted otherwise so that it
// survives a parse.
func token(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return quote(s)
		}
	}
	return s
}
