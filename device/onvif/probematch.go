package onvif

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// WS-Discovery (the 2005/04 draft that ONVIF Core §7.3 uses) constants.
const (
	nsAddressing  = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsDiscovery   = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
	actionProbe   = nsDiscovery + "/Probe"
	discoveryTo   = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
	anonymousRole = nsAddressing + "/role/anonymous"
	// onvifScopePrefix starts the scopes ONVIF Core §7.3.2.2 defines.
	onvifScopePrefix = "onvif://www.onvif.org/"
)

// maxMatchesPerMessage bounds the ProbeMatch elements taken from one
// datagram; a camera sends one, an NVR a handful.
const maxMatchesPerMessage = 64

// Discovered is a device that answered a WS-Discovery probe.
type Discovered struct {
	// EndpointRef is the device's stable WS-Addressing address, usually
	// "urn:uuid:…"; it identifies the device across address changes.
	EndpointRef string
	// XAddrs are the device service URLs the device offers, in its order.
	XAddrs []string
	// Name, Hardware and Location come from the onvif://www.onvif.org/name/,
	// hardware/ and location/ scopes, URL-decoded; several scopes of one kind
	// are joined with a space (name, hardware) or ", " (location).
	Name, Hardware, Location string
	// Types are the local names of the device's types, e.g.
	// "NetworkVideoTransmitter", "Device".
	Types []string
	// Scopes are all scopes as sent.
	Scopes []string
	// From is the address ("ip:port") the answer came from.
	From string
}

// newMessageID returns a random "urn:uuid:" (RFC 9562 version 4).
func newMessageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// buildProbe returns a Probe for NetworkVideoTransmitters (ONVIF Core
// §7.3.2.1: type dn:NetworkVideoTransmitter).
func buildProbe(messageID string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="` + nsSOAP12 + `" xmlns:a="` + nsAddressing + `" xmlns:d="` + nsDiscovery + `" xmlns:dn="` + nsNetwork + `">` +
		`<s:Header>` +
		`<a:Action s:mustUnderstand="1">` + actionProbe + `</a:Action>` +
		`<a:MessageID>` + messageID + `</a:MessageID>` +
		`<a:ReplyTo><a:Address>` + anonymousRole + `</a:Address></a:ReplyTo>` +
		`<a:To s:mustUnderstand="1">` + discoveryTo + `</a:To>` +
		`</s:Header>` +
		`<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>` +
		`</s:Envelope>`)
}

// errNotProbeMatches is returned by parseProbeMatches for a SOAP message that
// is not a ProbeMatches (a Probe from another client, a Hello, a Bye).
var errNotProbeMatches = errors.New("not a ProbeMatches message")

type probeMatchesXML struct {
	Body struct {
		ProbeMatches *struct {
			Matches []probeMatchXML `xml:"ProbeMatch"`
		} `xml:"ProbeMatches"`
	} `xml:"Body"`
}

type probeMatchXML struct {
	EndpointReference struct {
		Address string `xml:"Address"`
	} `xml:"EndpointReference"`
	Types  string `xml:"Types"`
	Scopes string `xml:"Scopes"`
	XAddrs string `xml:"XAddrs"`
}

// parseProbeMatches parses one SOAP-over-UDP datagram. Matches without any
// XAddrs and without an endpoint reference are dropped: nothing can be done
// with them.
func parseProbeMatches(data []byte) ([]Discovered, error) {
	d := newDecoder(data)
	root, err := firstElement(d)
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "Envelope" {
		return nil, fmt.Errorf("root element <%s>", root.Name.Local)
	}
	var env probeMatchesXML
	if err := d.DecodeElement(&env, &root); err != nil {
		return nil, err
	}
	if env.Body.ProbeMatches == nil {
		return nil, errNotProbeMatches
	}
	var out []Discovered
	for i, m := range env.Body.ProbeMatches.Matches {
		if i == maxMatchesPerMessage {
			break
		}
		dv := Discovered{
			EndpointRef: strings.TrimSpace(m.EndpointReference.Address),
			XAddrs:      strings.Fields(m.XAddrs),
			Scopes:      strings.Fields(m.Scopes),
		}
		for _, t := range strings.Fields(m.Types) {
			dv.Types = append(dv.Types, localName(t))
		}
		dv.Name, dv.Hardware, dv.Location = scopeValues(dv.Scopes)
		if dv.EndpointRef == "" && len(dv.XAddrs) == 0 {
			continue
		}
		out = append(out, dv)
	}
	return out, nil
}

// scopeValues extracts the name, hardware and location scopes.
func scopeValues(scopes []string) (name, hardware, location string) {
	var names, hws, locs []string
	for _, s := range scopes {
		if len(s) < len(onvifScopePrefix) || !strings.EqualFold(s[:len(onvifScopePrefix)], onvifScopePrefix) {
			continue
		}
		kind, value, _ := strings.Cut(s[len(onvifScopePrefix):], "/")
		value = decodeScope(value)
		if value == "" {
			continue
		}
		switch strings.ToLower(kind) {
		case "name":
			names = append(names, value)
		case "hardware":
			hws = append(hws, value)
		case "location":
			locs = append(locs, value)
		}
	}
	return strings.Join(names, " "), strings.Join(hws, " "), strings.Join(locs, ", ")
}

// decodeScope URL-decodes a scope value ("HIKVISION%20DS-2CD2143G2-I"); a
// value with a broken escape is kept as sent.
func decodeScope(v string) string {
	if d, err := url.PathUnescape(v); err == nil {
		v = d
	}
	return strings.TrimSpace(strings.TrimSuffix(v, "/"))
}
