package sip

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"strings"

	"github.com/ghettovoice/gosip/sip"
)

// Header names and values used on the wire.
const (
	// ContentTypeMANSCDP is the content type of GB/T 28181 XML bodies, in
	// the capitalization devices expect.
	ContentTypeMANSCDP = "Application/MANSCDP+xml"
	// DateLayout is the Date header format GB/T 28181 §9.1.2.1 uses in the
	// 200 to REGISTER (local time, milliseconds), not RFC 1123.
	DateLayout = "2006-01-02T15:04:05.000"
)

// userOf returns the user part of a From/To URI.
func userOf(uri sip.Uri) string {
	if uri == nil || uri.User() == nil {
		return ""
	}
	return uri.User().String()
}

// fromUser returns the user part of the From header.
func fromUser(req sip.Request) string {
	if from, ok := req.From(); ok {
		return userOf(from.Address)
	}
	return ""
}

// toUser returns the user part of the To header.
func toUser(req sip.Request) string {
	if to, ok := req.To(); ok {
		return userOf(to.Address)
	}
	return ""
}

// headerValue returns the first value of a header, "" when absent.
func headerValue(msg sip.Message, name string) string {
	hs := msg.GetHeaders(name)
	if len(hs) == 0 {
		return ""
	}
	return hs[0].Value()
}

// token returns a random hex string of n bytes for tags, branches and
// Call-IDs.
func token(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// splitHostPort splits "ip:port" into a host and a gosip port.
func splitHostPort(addr string) (string, *sip.Port) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, nil
	}
	p, err := strconv.Atoi(portStr)
	if err != nil {
		return host, nil
	}
	port := sip.Port(p)
	return host, &port
}

// transportOf normalizes a transport name to "UDP" or "TCP".
func transportOf(s string) string { return strings.ToUpper(s) }
