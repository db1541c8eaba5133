package gbmedia

import "encoding/binary"

// PayloadType is the RTP payload type of PS (GB/T 28181-2016 C.2.4,
// a=rtpmap:96 PS/90000).
const PayloadType = 96

// Header extension written with Quirks.HeaderExtension: the one-byte form of
// RFC 8285 section 4.2 (profile 0xBEDE), one element with ID 1 and 3 bytes.
const (
	extProfile = 0xbede
	extID      = 1
	extLen     = 8 // profile, length, one 4-byte word
)

// rtpHeaderLen is the fixed RTP header (RFC 3550 section 5.1).
const rtpHeaderLen = 12

// span is one packet in packetizer.buf, framing prefix included.
type span struct {
	start, end int
	// frame numbers the frame the packet belongs to; reordering stays within
	// a frame.
	frame uint32
}

// packetizer cuts the PS of each frame into RTP packets (GB/T 28181-2016
// C.2.4: PS is carried as an RTP payload split at any byte) and appends them
// to one buffer, each preceded by the TCP framing, so a whole batch leaves in
// one write.
type packetizer struct {
	ssrc        uint32
	seq         uint16
	ts0         uint32
	payloadSize int
	// prefix is the framing before each packet: 0 (UDP), 2 (RFC 4571) or 4
	// (RTSP interleaved).
	prefix      int
	interleaved bool
	markerFirst bool
	extension   bool

	frame uint32
	buf   []byte
	pkts  []span
}

// add packetizes the PS bytes of one frame whose PTS is pts.
func (p *packetizer) add(ps []byte, pts int64) {
	p.frame++
	ts := p.ts0 + uint32(pts)
	first := true
	for len(ps) > 0 {
		n := min(len(ps), p.payloadSize)
		last := n == len(ps)
		marker := last
		if p.markerFirst {
			marker = first
		}

		start := len(p.buf)
		hdr := rtpHeaderLen
		if p.extension {
			hdr += extLen
		}
		size := hdr + n
		switch p.prefix {
		case 2: // RFC 4571 section 2: 16-bit length
			p.buf = binary.BigEndian.AppendUint16(p.buf, uint16(size))
		case 4: // RFC 2326 section 10.12: '$', channel, 16-bit length
			p.buf = append(p.buf, '$', 0)
			p.buf = binary.BigEndian.AppendUint16(p.buf, uint16(size))
		}

		b0 := byte(2 << 6) // version 2
		if p.extension {
			b0 |= 0x10
		}
		b1 := byte(PayloadType)
		if marker {
			b1 |= 0x80
		}
		p.buf = append(p.buf, b0, b1)
		p.buf = binary.BigEndian.AppendUint16(p.buf, p.seq)
		p.buf = binary.BigEndian.AppendUint32(p.buf, ts)
		p.buf = binary.BigEndian.AppendUint32(p.buf, p.ssrc)
		if p.extension {
			// Devices put vendor data here; a frame counter is as good as any.
			p.buf = binary.BigEndian.AppendUint16(p.buf, extProfile)
			p.buf = binary.BigEndian.AppendUint16(p.buf, 1)
			p.buf = append(p.buf, extID<<4|2, byte(p.frame>>16), byte(p.frame>>8), byte(p.frame))
		}
		p.buf = append(p.buf, ps[:n]...)

		p.pkts = append(p.pkts, span{start: start, end: len(p.buf), frame: p.frame})
		p.seq++
		ps = ps[n:]
		first = false
	}
}

// reset empties the batch, keeping the buffers.
func (p *packetizer) reset() {
	p.buf = p.buf[:0]
	p.pkts = p.pkts[:0]
}
