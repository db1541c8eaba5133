package onvifsim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strings"
)

// discoveryGroup is the WS-Discovery IPv4 multicast group and port.
var discoveryGroup = &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 3702}

// DiscoveryAddr returns the address of the unicast WS-Discovery responder;
// "" when it is off.
func (s *Server) DiscoveryAddr() string {
	for _, c := range s.udp {
		if a := c.LocalAddr().(*net.UDPAddr); !a.IP.IsUnspecified() {
			return a.String()
		}
	}
	if s.cfg.DiscoveryAddr != "" && len(s.udp) > 0 {
		return s.udp[0].LocalAddr().String()
	}
	return ""
}

func (s *Server) startDiscovery() error {
	if s.cfg.DiscoveryAddr != "" {
		ua, err := net.ResolveUDPAddr("udp4", s.cfg.DiscoveryAddr)
		if err != nil {
			return fmt.Errorf("onvifsim: discovery address: %w", err)
		}
		c, err := net.ListenUDP("udp4", ua)
		if err != nil {
			return fmt.Errorf("onvifsim: discovery: %w", err)
		}
		s.udp = append(s.udp, c)
	}
	if s.cfg.MulticastInterface != "" {
		ifi, err := net.InterfaceByName(s.cfg.MulticastInterface)
		if err != nil {
			return fmt.Errorf("onvifsim: multicast interface: %w", err)
		}
		c, err := net.ListenMulticastUDP("udp4", ifi, discoveryGroup)
		if err != nil {
			return fmt.Errorf("onvifsim: multicast discovery: %w", err)
		}
		s.udp = append(s.udp, c)
	}
	for _, c := range s.udp {
		s.wg.Go(func() { s.serveDiscovery(c) })
	}
	return nil
}

// probeXML is a WS-Discovery Probe, matched by local names.
type probeXML struct {
	Header struct {
		MessageID string `xml:"MessageID"`
	} `xml:"Header"`
	Body struct {
		Probe *struct {
			Types string `xml:"Types"`
		} `xml:"Probe"`
	} `xml:"Body"`
}

func (s *Server) serveDiscovery(c *net.UDPConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var p probeXML
		if err := xml.NewDecoder(bytes.NewReader(buf[:n])).Decode(&p); err != nil || p.Body.Probe == nil {
			s.log.Debug("not a probe", "from", from, "error", err)
			continue
		}
		if !typesMatch(p.Body.Probe.Types) {
			continue
		}
		reply, err := s.probeMatches(strings.TrimSpace(p.Header.MessageID))
		if err != nil {
			s.log.Error("probe match", "error", err)
			continue
		}
		if _, err := c.WriteToUDP(reply, from); err != nil {
			s.log.Debug("probe match not sent", "to", from, "error", err)
		}
	}
}

// typesMatch reports whether a probe's types select this device: none, or
// NetworkVideoTransmitter or Device (WS-Discovery §5.1: every type listed
// must match; the namespace prefix is not checked).
func typesMatch(types string) bool {
	for _, t := range strings.Fields(types) {
		if i := strings.LastIndexByte(t, ':'); i >= 0 {
			t = t[i+1:]
		}
		if t != "NetworkVideoTransmitter" && t != "Device" {
			return false
		}
	}
	return true
}

func (s *Server) probeMatches(relatesTo string) ([]byte, error) {
	v := s.baseView(s.Now())
	v.RelatesTo = relatesTo
	v.MessageID = newUUID()
	v.InstanceID = s.instanceID
	s.mu.Lock()
	s.msgNumber++
	v.MessageNumber = s.msgNumber
	s.mu.Unlock()
	return s.render("ProbeMatches", v)
}
