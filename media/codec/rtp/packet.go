package rtp

import (
	"encoding/binary"
	"errors"
)

// HeaderSize is the size of the fixed RTP header (RFC 3550 §5.1).
const HeaderSize = 12

// rtpVersion is the only RTP version in use (RFC 3550 §5.1).
const rtpVersion = 2

// Errors returned by Packet.Unmarshal.
var (
	// ErrShort is returned for fewer bytes than the header announces.
	ErrShort = errors.New("RTP packet too short")
	// ErrVersion is returned when the version field is not 2.
	ErrVersion = errors.New("not an RTP version 2 packet")
	// ErrRTCP is returned for an RTCP packet (SR, RR, SDES, BYE, APP,
	// feedback or XR) multiplexed with RTP; callers skip it silently.
	ErrRTCP = errors.New("RTCP packet")
	// ErrPadding is returned when the padding count exceeds the payload.
	ErrPadding = errors.New("RTP padding longer than the payload")
)

// Packet is a parsed RTP packet. Payload aliases the bytes given to
// Unmarshal; CSRCs, the header extension and padding are skipped.
type Packet struct {
	Marker         bool
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	// CSRCCount is how many contributing sources were listed (and skipped).
	CSRCCount uint8
	// Extension reports a header extension (RFC 3550 §5.3.1, RFC 8285);
	// ExtensionProfile is its first 16 bits. Devices add vendor extensions
	// that carry nothing we need.
	Extension        bool
	ExtensionProfile uint16
	// Padding is the number of padding bytes removed from the end.
	Padding uint8
	// Payload is what follows the header, without padding.
	Payload []byte
}

// Unmarshal parses b into p without allocating. p.Payload aliases b.
func (p *Packet) Unmarshal(b []byte) error {
	if len(b) < HeaderSize {
		return ErrShort
	}
	if b[0]>>6 != rtpVersion {
		return ErrVersion
	}
	if isRTCPType(b[1]) {
		return ErrRTCP
	}
	hasPadding := b[0]&0x20 != 0
	p.Extension = b[0]&0x10 != 0
	p.CSRCCount = b[0] & 0x0f
	p.Marker = b[1]&0x80 != 0
	p.PayloadType = b[1] & 0x7f
	p.SequenceNumber = binary.BigEndian.Uint16(b[2:4])
	p.Timestamp = binary.BigEndian.Uint32(b[4:8])
	p.SSRC = binary.BigEndian.Uint32(b[8:12])

	n := HeaderSize + 4*int(p.CSRCCount)
	p.ExtensionProfile = 0
	if p.Extension {
		// RFC 3550 §5.3.1: 16 bits profile, 16 bits length in 32-bit words,
		// not counting this 4-byte header.
		if len(b) < n+4 {
			return ErrShort
		}
		p.ExtensionProfile = binary.BigEndian.Uint16(b[n : n+2])
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:n+4]))
	}
	if len(b) < n {
		return ErrShort
	}
	end := len(b)
	p.Padding = 0
	if hasPadding {
		// RFC 3550 §5.1: the last byte counts the padding, itself included.
		// A count of zero is invalid but harmless: nothing is removed.
		pad := int(b[end-1])
		if pad > end-n {
			return ErrPadding
		}
		p.Padding = uint8(pad)
		end -= pad
	}
	p.Payload = b[n:end]
	return nil
}

// isRTCPType reports whether the second byte of a packet is an RTCP packet
// type: 200-207 (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR). RFC 5761 §4 keeps
// RTP payload types 72-79 (with the marker bit set, 200-207) free for this.
func isRTCPType(b byte) bool { return b >= 200 && b <= 207 }

// PeekSSRC returns the SSRC of an RTP packet without parsing the rest, for
// routing datagrams of a shared port. ok is false when b cannot be RTP.
func PeekSSRC(b []byte) (ssrc uint32, ok bool) {
	if len(b) < HeaderSize || b[0]>>6 != rtpVersion || isRTCPType(b[1]) {
		return 0, false
	}
	return binary.BigEndian.Uint32(b[8:12]), true
}

// Marshal appends the packet to dst with a plain 12-byte header (no CSRC,
// extension or padding), for tests and senders.
func (p *Packet) Marshal(dst []byte) []byte {
	var b1 byte = p.PayloadType & 0x7f
	if p.Marker {
		b1 |= 0x80
	}
	dst = append(dst, rtpVersion<<6, b1)
	dst = binary.BigEndian.AppendUint16(dst, p.SequenceNumber)
	dst = binary.BigEndian.AppendUint32(dst, p.Timestamp)
	dst = binary.BigEndian.AppendUint32(dst, p.SSRC)
	return append(dst, p.Payload...)
}
