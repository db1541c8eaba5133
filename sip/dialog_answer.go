package sip

import (
	"net"
	"strconv"

	"github.com/nvr/nvr/sip/sdp"
)

// SDPAnswer is what a device's answer to an INVITE says about its media.
// The answer's address, port and SSRC may all differ from the offer's:
// devices answer with their own SSRC (Hikvision, Kedacom), with 0 (some
// Dahua), or with none.
type SDPAnswer struct {
	// IP and Port are where the device's media comes from; for TCP with
	// Setup "passive", where the device listens for the platform to
	// connect. IP is the c= address, or the o= one when there is no c=.
	IP   string
	Port int
	// TCP reports RTP over TCP (RFC 4571 framing).
	TCP bool
	// Setup is the device's TCP role: "active" (it connects to the
	// platform) or "passive" (it listens). A device that does not say
	// takes the role the offer left it. Empty for UDP.
	Setup string
	// SSRC is the y= value as sent, "" when there is none.
	SSRC string
	// Session is the whole answer.
	Session sdp.Session
}

// Addr returns IP:Port.
func (a SDPAnswer) Addr() string { return net.JoinHostPort(a.IP, strconv.Itoa(a.Port)) }

// SSRCValue returns the answer's SSRC as a number; 0 when the device
// answered 0, none, or something that is not a number. What a device sends
// in RTP after answering 0 or none is its own choice: treat 0 as "any".
func (a SDPAnswer) SSRCValue() uint32 {
	v, _ := sdp.ParseSSRC(a.SSRC)
	return v
}

// parseAnswer reads a device's SDP answer to offer.
func parseAnswer(body []byte, offer sdp.Session) (SDPAnswer, error) {
	var s sdp.Session
	if err := s.Unmarshal(body); err != nil {
		return SDPAnswer{}, err
	}
	a := SDPAnswer{IP: s.Address, Port: s.Port, TCP: s.TCP(), Setup: s.Setup, SSRC: s.SSRC, Session: s}
	if a.IP == "" {
		return SDPAnswer{}, sdp.ErrBadMedia
	}
	switch {
	case !a.TCP:
		a.Setup = ""
	case a.Setup != sdp.SetupActive && a.Setup != sdp.SetupPassive:
		// Not said (or actpass): the role the offer left the device.
		a.Setup = sdp.SetupActive
		if offer.Setup == sdp.SetupActive {
			a.Setup = sdp.SetupPassive
		}
	}
	return a, nil
}
