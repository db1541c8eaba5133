package digest

import (
	"testing"
)

// FuzzParse feeds arbitrary header values to the parsers. They must never
// panic, and an Authorization they accept must survive String and a second
// parse unchanged.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.in)
	}
	f.Add(`Digest username="u", nonce="n", response="r", qop=auth, nc=00000001, cnonce="c"`)
	f.Add(`Digest realm="3402000000", nonce="n", algorithm=MD5, qop="auth", stale=TRUE`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _, _ = ParseParams(s)
		_, _ = ParseChallenge(s)
		a, err := ParseAuthorization(s)
		if err != nil {
			return
		}
		b, err := ParseAuthorization(a.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", a.String(), err)
		}
		if a.Algorithm == "" {
			a.Algorithm = MD5 // String writes the default out
		}
		if b != a {
			t.Fatalf("round trip changed the value:\n got %+v\nwant %+v", b, a)
		}
		_ = a.Verify("REGISTER", "pw")
	})
}
