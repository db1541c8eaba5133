package device

// Values of the GB28181 fields of Device and Channel. They are stored in the database, so a
// value never changes once released.

// SIP transports a device registers over (Device.Transport).
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
)

// Charsets of MANSCDP bodies (Device.Charset). GB/T 28181 says GB2312; real devices also send
// GB18030 (a superset) and UTF-8.
const (
	CharsetGB2312  = "GB2312"
	CharsetGB18030 = "GB18030"
	CharsetUTF8    = "UTF-8"
)

// How a device sends media to the platform (Device.StreamTransport), as offered in the INVITE's
// SDP (GB/T 28181-2016 C.2.4, RFC 4145 for setup and RFC 4571 for the TCP framing).
const (
	// StreamUDP is RTP over UDP, the default.
	StreamUDP = "udp"
	// StreamTCPPassive has the platform listen and the device connect (a=setup:passive in our
	// offer); it works when the device is behind NAT.
	StreamTCPPassive = "tcp-passive"
	// StreamTCPActive has the platform connect to the device (a=setup:active in our offer).
	StreamTCPActive = "tcp-active"
)

// Channel status as reported in a catalog (Channel.Status).
const (
	ChannelOn  = "ON"
	ChannelOff = "OFF"
)

// PTZ types of a camera (Channel.PTZType), GB/T 28181-2016 A.2.4.4 PTZType.
const (
	PTZUnknown    = 0
	PTZDome       = 1
	PTZHemisphere = 2
	PTZFixed      = 3
	PTZRemote     = 4 // a fixed camera with a remote-controlled lens
)

// What a catalog item is (Channel.Kind). Only KindChannel is a video source that can be played;
// the others are nodes of the tree the console shows.
const (
	// KindChannel is a video source, the default.
	KindChannel = "channel"
	// KindBusinessGroup is a business group node, type code 215.
	KindBusinessGroup = "business_group"
	// KindVirtualOrg is a virtual organisation node, type code 216.
	KindVirtualOrg = "virtual_org"
	// KindCivilCode is an administrative area node, whose ID is a civil code of 2 to 8 digits.
	KindCivilCode = "civil_code"
	// KindDevice is a sub-device, such as an NVR listed in its own or a lower platform's catalog.
	KindDevice = "device"
)

// Type codes of GB/T 28181 IDs (Appendix D, digits 11 to 13) that name catalog tree nodes.
const (
	typeBusinessGroup = "215"
	typeVirtualOrg    = "216"
)

// KindFromID returns the Kind that a catalog item's ID alone implies: KindCivilCode for 2 to 8
// digits, KindBusinessGroup and KindVirtualOrg for 20 digits of type 215 and 216, and
// KindChannel otherwise. It never returns KindDevice: a sub-device cannot be told from its ID,
// because many IPCs list themselves, with their own device ID, as their only video channel.
func KindFromID(id string) string {
	if !allDigits(id) {
		return KindChannel
	}
	switch {
	case len(id) >= 2 && len(id) <= 8:
		return KindCivilCode
	case len(id) == 20 && id[10:13] == typeBusinessGroup:
		return KindBusinessGroup
	case len(id) == 20 && id[10:13] == typeVirtualOrg:
		return KindVirtualOrg
	}
	return KindChannel
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
