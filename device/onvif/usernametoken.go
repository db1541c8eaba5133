package onvif

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// UsernameToken is an http.RoundTripper that signs SOAP requests with a
// WS-Security UsernameToken (OASIS Username Token Profile 1.0 §3.1, required
// by ONVIF Core §5.12.1): a fresh random nonce, the creation time and
// PasswordDigest = Base64(SHA-1(nonce + created + password)).
//
// Cameras refuse a token whose Created is more than a few seconds from their
// own clock, and many cameras' clocks are off, so Now should return the
// device's time (Client sets it to the host clock plus the offset it measured
// with GetSystemDateAndTime). A fresh nonce and time are made on every round
// trip, so a request that is retried (e.g. after an HTTP digest challenge)
// is never a replay.
//
// Requests that are not POSTs with a SOAP envelope pass through unchanged, so
// the same client can fetch snapshots. It can also wrap the transport of the
// use-go/onvif library's own client.
type UsernameToken struct {
	// Base does the round trip; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Username and Password are the device account; an empty Username turns
	// signing off.
	Username, Password string
	// Now returns the device's current time; nil means time.Now.
	Now func() time.Time
}

// noAuthKey marks a request context: send without a UsernameToken.
type noAuthKey struct{}

// withoutUsernameToken marks ctx so UsernameToken leaves its requests alone:
// GetSystemDateAndTime must be answered without authentication (ONVIF Core
// §5.12.1), and it is what measures the clock the token needs.
func withoutUsernameToken(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAuthKey{}, true)
}

// RoundTrip implements http.RoundTripper.
func (t *UsernameToken) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Username == "" || req.Method != http.MethodPost || req.Body == nil || req.Context().Value(noAuthKey{}) != nil {
		return base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	sec, err := securityHeader(t.Username, t.Password, now())
	if err != nil {
		return nil, err
	}
	signed, err := insertHeader(body, sec)
	if err != nil {
		// Not a SOAP envelope: send it as it is.
		signed = body
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(signed))
	r.ContentLength = int64(len(signed))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(signed)), nil }
	return base.RoundTrip(r)
}

// passwordDigest computes the PasswordDigest of the Username Token Profile.
func passwordDigest(nonce []byte, created, password string) string {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// createdLayout is the UTC form of Created that cameras accept; some refuse
// a numeric zone offset, a few refuse more than three decimals.
const createdLayout = "2006-01-02T15:04:05.000Z"

// nonceBytes is the nonce length; 16 random bytes as most clients send.
const nonceBytes = 16

// securityHeader returns the wsse:Security element for a request made at now.
func securityHeader(username, password string, now time.Time) ([]byte, error) {
	nonce := make([]byte, nonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	created := now.UTC().Format(createdLayout)
	var b bytes.Buffer
	b.WriteString(`<wsse:Security xmlns:wsse="` + nsWSSE + `" xmlns:wsu="` + nsWSU + `">`)
	b.WriteString(`<wsse:UsernameToken><wsse:Username>`)
	if err := xml.EscapeText(&b, []byte(username)); err != nil {
		return nil, err
	}
	b.WriteString(`</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">`)
	b.WriteString(passwordDigest(nonce, created, password))
	b.WriteString(`</wsse:Password><wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">`)
	b.WriteString(base64.StdEncoding.EncodeToString(nonce))
	b.WriteString(`</wsse:Nonce><wsu:Created>`)
	b.WriteString(created)
	b.WriteString(`</wsu:Created></wsse:UsernameToken></wsse:Security>`)
	return b.Bytes(), nil
}

// errNoEnvelope is returned by insertHeader for a body that is not SOAP.
var errNoEnvelope = errors.New("not a SOAP envelope")

// insertHeader puts elem into the envelope's Header, creating the Header
// when there is none. It works on the raw bytes so the rest of the request
// is sent exactly as its author wrote it, whatever its prefixes.
func insertHeader(body, elem []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var env xml.StartElement
	var beforeEnv int
	for {
		beforeEnv = int(d.InputOffset())
		tok, err := d.RawToken()
		if err != nil {
			return nil, errNoEnvelope
		}
		if se, ok := tok.(xml.StartElement); ok {
			env = se
			break
		}
	}
	if env.Name.Local != "Envelope" {
		return nil, errNoEnvelope
	}
	afterEnv := int(d.InputOffset())
	prefix := env.Name.Space // RawToken leaves the prefix here
	if bytes.HasSuffix(body[beforeEnv:afterEnv], []byte("/>")) {
		// <s:Envelope/>: open it up.
		end := []byte("</" + env.Name.Local + ">")
		if prefix != "" {
			end = []byte("</" + prefix + ":" + env.Name.Local + ">")
		}
		return splice(body, afterEnv-2, afterEnv, []byte(">"), headerOpen(prefix), elem, headerClose(prefix), end), nil
	}
	for {
		before := int(d.InputOffset())
		tok, err := d.RawToken()
		if err != nil {
			return nil, errNoEnvelope
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "Header" {
				// No Header: create one right after the Envelope start tag.
				return splice(body, afterEnv, afterEnv, headerOpen(prefix), elem, headerClose(prefix)), nil
			}
			at := int(d.InputOffset())
			if bytes.HasSuffix(body[before:at], []byte("/>")) {
				// <s:Header/>: open it up.
				return splice(body, at-2, at, []byte(">"), elem, headerClose(t.Name.Space)), nil
			}
			return splice(body, at, at, elem), nil
		case xml.EndElement:
			return splice(body, before, before, headerOpen(prefix), elem, headerClose(prefix)), nil
		}
	}
}

func headerOpen(prefix string) []byte {
	if prefix == "" {
		return []byte("<Header>")
	}
	return []byte("<" + prefix + ":Header>")
}

func headerClose(prefix string) []byte {
	if prefix == "" {
		return []byte("</Header>")
	}
	return []byte("</" + prefix + ":Header>")
}

// splice returns body with body[from:to] replaced by parts.
func splice(body []byte, from, to int, parts ...[]byte) []byte {
	n := len(body) - (to - from)
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	out = append(out, body[:from]...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return append(out, body[to:]...)
}

// String describes the transport for logs without the password.
func (t *UsernameToken) String() string {
	return fmt.Sprintf("UsernameToken(%s)", t.Username)
}
