package ui

import (
	"net/http"
	"regexp"
	"strings"
)

// cspBase is the Content-Security-Policy of every console answer: this
// origin only. No inline script or style, no eval, no plugin, no frame.
// Media may also come from blob: URLs (a MediaSource). 'self' covers ws:
// and wss: of this host in browsers that follow CSP Level 3; the explicit
// ws://host entries added by csp cover the others.
var cspBase = []string{
	"default-src 'self'",
	"script-src 'self'",
	"style-src 'self'",
	"img-src 'self'",
	"media-src 'self' blob:",
	"object-src 'none'",
	"base-uri 'none'",
	"form-action 'self'",
	"frame-ancestors 'none'",
	"worker-src 'none'",
}

// hostPattern is a Host header that may go into a policy: a name or an IPv4
// address, or a bracketed IPv6 address, with an optional port. Anything else
// (spaces, semicolons, quotes) could change the policy and is left out.
var hostPattern = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// csp returns the policy for a request to host: cspBase, with the
// WebSocket URLs of this host allowed for the live player.
func csp(host string) string {
	connect := "connect-src 'self'"
	if hostPattern.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return strings.Join(append(cspBase[:len(cspBase):len(cspBase)], connect), "; ")
}

// setSecurityHeaders sets the headers every console answer carries.
// no-referrer keeps the token that play and export URLs carry in their
// query from leaking through the Referer header.
func setSecurityHeaders(h http.Header, host string) {
	h.Set("Content-Security-Policy", csp(host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}
