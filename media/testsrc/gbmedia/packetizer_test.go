package gbmedia

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"
)

func TestPacketizer(t *testing.T) {
	ps := make([]byte, 3000)
	for i := range ps {
		ps[i] = byte(i)
	}
	cases := []struct {
		name        string
		prefix      int
		markerFirst bool
		extension   bool
	}{
		{"udp", 0, false, false},
		{"rfc4571", 2, false, false},
		{"interleaved", 4, false, false},
		{"marker first", 0, true, false},
		{"extension", 2, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := packetizer{ssrc: 0x12345678, seq: 65534, ts0: 1000, payloadSize: 1400,
				prefix: c.prefix, markerFirst: c.markerFirst, extension: c.extension}
			p.add(ps, 90000)
			p.add(ps[:10], 93600)
			if len(p.pkts) != 4 {
				t.Fatalf("%d packets, want 3+1", len(p.pkts))
			}
			var payload []byte
			for i, sp := range p.pkts {
				b := p.buf[sp.start:sp.end]
				switch c.prefix {
				case 2:
					if int(binary.BigEndian.Uint16(b)) != len(b)-2 {
						t.Fatalf("packet %d: RFC 4571 length", i)
					}
				case 4:
					if b[0] != '$' || b[1] != 0 || int(binary.BigEndian.Uint16(b[2:])) != len(b)-4 {
						t.Fatalf("packet %d: interleaved header % x", i, b[:4])
					}
				}
				var pkt rtp.Packet
				if err := pkt.Unmarshal(b[c.prefix:]); err != nil {
					t.Fatal(err)
				}
				if pkt.PayloadType != PayloadType || pkt.SSRC != 0x12345678 || pkt.SequenceNumber != uint16(65534+i) {
					t.Fatalf("packet %d: header %+v", i, pkt.Header)
				}
				if len(pkt.Payload) > 1400 {
					t.Fatalf("packet %d: payload %d", i, len(pkt.Payload))
				}
				frameFirst, frameLast := i == 0 || i == 3, i == 2 || i == 3
				if want := frameLast; c.markerFirst {
					if pkt.Marker != frameFirst {
						t.Errorf("packet %d: marker %v", i, pkt.Marker)
					}
				} else if pkt.Marker != want {
					t.Errorf("packet %d: marker %v", i, pkt.Marker)
				}
				if pkt.Extension != c.extension || (c.extension && (pkt.ExtensionProfile != 0xbede || pkt.GetExtension(1) == nil)) {
					t.Errorf("packet %d: extension %v profile %x", i, pkt.Extension, pkt.ExtensionProfile)
				}
				wantTS := uint32(1000 + 90000)
				if i == 3 {
					wantTS += 3600
				}
				if pkt.Timestamp != wantTS {
					t.Errorf("packet %d: timestamp %d, want %d", i, pkt.Timestamp, wantTS)
				}
				if i < 3 {
					payload = append(payload, pkt.Payload...)
				}
			}
			if !bytes.Equal(payload, ps) {
				t.Error("payloads do not rebuild the PS")
			}
			p.reset()
			if len(p.buf) != 0 || len(p.pkts) != 0 {
				t.Error("reset kept packets")
			}
		})
	}
}
