package ps

import "fmt"

// Transport is how a device sends its media. The values are those of
// device.StreamUDP, device.StreamTCPPassive and device.StreamTCPActive
// (GB/T 28181-2016 C.2.4; RFC 4145 for setup, RFC 4571 for the framing).
type Transport string

// Transports.
const (
	// TransportUDP is RTP over UDP, the default; "" means the same.
	TransportUDP Transport = "udp"
	// TransportTCPPassive has us listen and the device connect
	// (a=setup:passive in our offer): it works with a device behind NAT.
	TransportTCPPassive Transport = "tcp-passive"
	// TransportTCPActive has us connect to the address of the device's
	// answer (a=setup:active in our offer).
	TransportTCPActive Transport = "tcp-active"
)

// norm returns t with "" read as UDP, or an error for an unknown value.
func (t Transport) norm() (Transport, error) {
	switch t {
	case "", TransportUDP:
		return TransportUDP, nil
	case TransportTCPPassive, TransportTCPActive:
		return t, nil
	}
	return "", fmt.Errorf("%w %q: want %q, %q or %q", ErrTransport, string(t), TransportUDP, TransportTCPPassive, TransportTCPActive)
}

// IsTCP reports whether t is one of the TCP transports.
func (t Transport) IsTCP() bool { return t == TransportTCPPassive || t == TransportTCPActive }
