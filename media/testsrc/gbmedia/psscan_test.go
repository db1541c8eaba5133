package gbmedia

import (
	"encoding/binary"
	"sort"
)

// reassemble orders packets by sequence number (undoing reordering; a lost
// packet is simply missing) and returns them.
func reassemble(pkts []rxPacket) []rxPacket {
	if len(pkts) == 0 {
		return nil
	}
	// Unwrap the 16-bit sequence numbers in arrival order.
	type ext struct {
		seq int64
		p   rxPacket
	}
	out := make([]ext, len(pkts))
	last := int64(pkts[0].hdr.SequenceNumber)
	for i, p := range pkts {
		d := int16(p.hdr.SequenceNumber - uint16(last))
		last += int64(d)
		out[i] = ext{last, p}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	res := make([]rxPacket, len(out))
	for i, e := range out {
		res[i] = e.p
	}
	return res
}

// psPayload concatenates the payloads of ordered packets into the PS byte
// stream.
func psPayload(pkts []rxPacket) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(b, p.payload...)
	}
	return b
}

// psScan is what a test-only walk over a PS byte stream found. It is
// independent of the ps package so it can check the muxer's output shape.
type psScan struct {
	packs, systemHeaders, psms int
	// psmTypes are the (stream_type, elementary_stream_id) pairs of the
	// first PSM.
	psmTypes [][2]byte
	// pes counts PES packets by stream id; zeroLen counts video PES packets
	// with PES_packet_length 0.
	pes     map[byte]int
	zeroLen int
	// videoPTS are the PTS of video PES packets that carry one, in order.
	videoPTS []int64
	// videoNALTypes are the first bytes after each start code inside video
	// PES payloads (NAL unit headers).
	videoPayload []byte
	// errors counts places where the walk lost sync.
	errors int
}

// scanPS walks a PS stream by start codes (ISO/IEC 13818-1 2.5.3).
func scanPS(b []byte) psScan {
	s := psScan{pes: map[byte]int{}}
	i := 0
	for i+4 <= len(b) {
		if b[i] != 0 || b[i+1] != 0 || b[i+2] != 1 {
			s.errors++
			// Resync on the next pack header.
			n := indexPack(b, i+1)
			if n < 0 {
				return s
			}
			i = n
			continue
		}
		id := b[i+3]
		switch {
		case id == 0xba:
			if i+14 > len(b) {
				return s
			}
			s.packs++
			i += 14 + int(b[i+13]&7)
		case id == 0xb9: // end code
			i += 4
		default:
			if i+6 > len(b) {
				return s
			}
			n := int(binary.BigEndian.Uint16(b[i+4:]))
			body := i + 6
			end := body + n
			if id == 0xe0 && n == 0 {
				s.zeroLen++
				// Unbounded video PES: it runs to the next pack or PES start.
				end = nextStart(b, body+3+int(b[body+2]))
			}
			if end > len(b) {
				end = len(b)
			}
			switch {
			case id == 0xbb:
				s.systemHeaders++
			case id == 0xbc:
				s.psms++
				if s.psms == 1 {
					s.psmTypes = parsePSM(b[body:end])
				}
			default:
				s.pes[id]++
				if id == 0xe0 && body+3 <= end {
					hlen := int(b[body+2])
					if b[body+1]&0x80 != 0 && body+8 <= end {
						s.videoPTS = append(s.videoPTS, parsePTS(b[body+3:]))
					}
					if body+3+hlen <= end {
						s.videoPayload = append(s.videoPayload, b[body+3+hlen:end]...)
					}
				}
			}
			i = end
		}
	}
	return s
}

func indexPack(b []byte, from int) int {
	for j := from; j+4 <= len(b); j++ {
		if b[j] == 0 && b[j+1] == 0 && b[j+2] == 1 && b[j+3] == 0xba {
			return j
		}
	}
	return -1
}

// nextStart finds the next pack header or PES start code that is not part
// of the video elementary stream (stream ids 0xb9..0xff after 00 00 01;
// NAL unit headers after a start code are below 0x80).
func nextStart(b []byte, from int) int {
	for j := from; j+4 <= len(b); j++ {
		if b[j] == 0 && b[j+1] == 0 && b[j+2] == 1 && b[j+3] >= 0xb9 {
			return j
		}
	}
	return len(b)
}

func parsePSM(b []byte) [][2]byte {
	// current_next/version (1), marker (1), info length (2), info, ES map length (2), entries.
	if len(b) < 4 {
		return nil
	}
	info := int(binary.BigEndian.Uint16(b[2:]))
	p := 4 + info
	if p+2 > len(b) {
		return nil
	}
	n := int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	var out [][2]byte
	for end := min(p+n, len(b)); p+4 <= end; {
		out = append(out, [2]byte{b[p], b[p+1]})
		p += 4 + int(binary.BigEndian.Uint16(b[p+2:]))
	}
	return out
}

func parsePTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// nalTypes returns the NAL unit types found after start codes in an
// Annex-B stream.
func nalTypes(b []byte, h265 bool) map[int]int {
	out := map[int]int{}
	for j := 0; j+3 < len(b); j++ {
		if b[j] == 0 && b[j+1] == 0 && b[j+2] == 1 {
			if h265 {
				out[int(b[j+3]>>1&0x3f)]++
			} else {
				out[int(b[j+3]&0x1f)]++
			}
			j += 2
		}
	}
	return out
}
