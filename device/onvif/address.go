package onvif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// DefaultDevicePath is the device service path ONVIF Core §5.1.1 recommends
// and nearly every camera uses.
const DefaultDevicePath = "/onvif/device_service"

// ParseAddress turns what a user types into the device service URL: a host
// ("192.168.1.64", "cam.local", "fe80::1"), a host:port ("10.0.0.5:8080",
// "[::1]:80") or a full XAddr URL ("http://10.0.0.5/onvif/device_service").
// A URL without a path gets DefaultDevicePath. Credentials in the URL are
// removed and returned.
func ParseAddress(addr string) (u *url.URL, user *url.Userinfo, err error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, nil, errors.New("onvif: empty address")
	}
	if !strings.Contains(addr, "://") {
		if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() {
			addr = "[" + addr + "]" // a bare IPv6 address
		}
		addr = "http://" + addr
	}
	u, err = url.Parse(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("onvif: address %q: %w", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, fmt.Errorf("onvif: address %q: scheme must be http or https", addr)
	}
	if u.Hostname() == "" {
		return nil, nil, fmt.Errorf("onvif: address %q has no host", addr)
	}
	user, u.User = u.User, nil
	if u.Path == "" || u.Path == "/" {
		u.Path = DefaultDevicePath
	}
	u.Fragment, u.RawFragment = "", ""
	return u, user, nil
}

// rewriteXAddr fixes a service address a device reports about itself when it
// cannot be what we should use: behind NAT or port forwarding, a camera
// reports its own private address ("http://192.168.1.64/onvif/Media") while
// we reach it as "203.0.113.7:8080". When the reported host differs from the
// host we reached the device service at and is private, loopback, link-local
// or unspecified, scheme and host:port are replaced by the ones we used. A
// public or named host is kept: some devices legitimately serve media from
// another address. An address that does not parse is returned unchanged and
// the caller's request fails with it.
func rewriteXAddr(xaddr string, given *url.URL) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(xaddr))
	if err != nil || u.Host == "" {
		return xaddr, false
	}
	if !shouldRewriteHost(u.Hostname(), given.Hostname()) {
		return strings.TrimSpace(xaddr), false
	}
	u.Scheme = given.Scheme
	u.Host = given.Host
	return u.String(), true
}

// rewriteMediaURI applies the same NAT rule to an RTSP (or snapshot) URI but
// replaces only the host: the RTSP port is its own, and a forwarded camera
// usually forwards it under the same number.
func rewriteMediaURI(raw string, given *url.URL) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return raw, false
	}
	if !shouldRewriteHost(u.Hostname(), given.Hostname()) {
		return strings.TrimSpace(raw), false
	}
	if p := u.Port(); p != "" {
		u.Host = net.JoinHostPort(given.Hostname(), p)
	} else {
		u.Host = given.Hostname()
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	}
	return u.String(), true
}

// shouldRewriteHost reports whether a reported host is a private view of the
// device that differs from the host the user gave.
func shouldRewriteHost(reported, given string) bool {
	if strings.EqualFold(reported, given) {
		return false
	}
	if strings.EqualFold(reported, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(reported)
	if err != nil {
		return false // a name: trust it
	}
	if g, err := netip.ParseAddr(given); err == nil && g.Unmap() == ip.Unmap() {
		return false
	}
	return isPrivateView(ip.Unmap())
}

// cgnat is the shared address space of RFC 6598.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPrivateView reports whether ip is only meaningful inside the device's
// own network.
func isPrivateView(ip netip.Addr) bool {
	return ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
		ip.IsUnspecified() || cgnat.Contains(ip)
}

// stripUserinfo removes credentials from a URI; some cameras put the
// account into the stream URI they report.
func stripUserinfo(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User == nil {
		return strings.TrimSpace(raw)
	}
	u.User = nil
	return u.String()
}
