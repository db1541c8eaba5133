package rtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// psPayload is the start of a PS pack header (0x000001BA), what a GB28181
// packet usually carries first.
var psPayload = []byte{0x00, 0x00, 0x01, 0xba, 0x44, 0x00, 0x04, 0x00, 0x04, 0x01, 0x01, 0x89, 0xc3, 0xf8}

// header builds a 12-byte RTP header.
func header(b0, b1 byte, seq uint16, ts, ssrc uint32) []byte {
	h := []byte{b0, b1}
	h = binary.BigEndian.AppendUint16(h, seq)
	h = binary.BigEndian.AppendUint32(h, ts)
	return binary.BigEndian.AppendUint32(h, ssrc)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// packetCases drive the unmarshal test and seed FuzzPacket.
var packetCases = []struct {
	name string
	raw  []byte
	want Packet
	err  error
}{
	{
		name: "ps",
		raw:  cat(header(0x80, 96, 1000, 3600, 0x00000001), psPayload),
		want: Packet{PayloadType: 96, SequenceNumber: 1000, Timestamp: 3600, SSRC: 0x00000001, Payload: psPayload},
	},
	{
		name: "marker",
		raw:  cat(header(0x80, 0x80|96, 65535, 0xffffffff, 200001234), psPayload),
		want: Packet{Marker: true, PayloadType: 96, SequenceNumber: 65535, Timestamp: 0xffffffff, SSRC: 200001234, Payload: psPayload},
	},
	{
		name: "csrc",
		raw:  cat(header(0x82, 96, 7, 9, 10), []byte{0, 0, 0, 1, 0, 0, 0, 2}, psPayload),
		want: Packet{PayloadType: 96, SequenceNumber: 7, Timestamp: 9, SSRC: 10, CSRCCount: 2, Payload: psPayload},
	},
	{
		// RFC 8285 one-byte header extension, as Hikvision and Dahua add.
		name: "extension",
		raw:  cat(header(0x90, 96, 8, 9, 10), []byte{0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0, 0, 0x21, 0xbb, 0xcc, 0}, psPayload),
		want: Packet{PayloadType: 96, SequenceNumber: 8, Timestamp: 9, SSRC: 10, Extension: true, ExtensionProfile: 0xbede, Payload: psPayload},
	},
	{
		name: "extension_empty",
		raw:  cat(header(0x90, 96, 8, 9, 10), []byte{0xab, 0xac, 0x00, 0x00}, psPayload),
		want: Packet{PayloadType: 96, SequenceNumber: 8, Timestamp: 9, SSRC: 10, Extension: true, ExtensionProfile: 0xabac, Payload: psPayload},
	},
	{
		name: "padding",
		raw:  cat(header(0xa0, 96, 9, 9, 10), psPayload, []byte{0, 0, 0, 4}),
		want: Packet{PayloadType: 96, SequenceNumber: 9, Timestamp: 9, SSRC: 10, Padding: 4, Payload: psPayload},
	},
	{
		name: "padding_zero",
		raw:  cat(header(0xa0, 96, 9, 9, 10), psPayload, []byte{0}),
		want: Packet{PayloadType: 96, SequenceNumber: 9, Timestamp: 9, SSRC: 10, Payload: cat(psPayload, []byte{0})},
	},
	{
		name: "everything",
		raw:  cat(header(0xb1, 0x80|97, 10, 9, 10), []byte{1, 2, 3, 4}, []byte{0x10, 0x00, 0x00, 0x01, 1, 2, 3, 4}, psPayload, []byte{2, 2}),
		want: Packet{Marker: true, PayloadType: 97, SequenceNumber: 10, Timestamp: 9, SSRC: 10, CSRCCount: 1, Extension: true, ExtensionProfile: 0x1000, Padding: 2, Payload: psPayload},
	},
	{
		name: "header_only",
		raw:  header(0x80, 96, 1, 2, 3),
		want: Packet{PayloadType: 96, SequenceNumber: 1, Timestamp: 2, SSRC: 3, Payload: []byte{}},
	},
	{name: "short", raw: header(0x80, 96, 1, 2, 3)[:11], err: ErrShort},
	{name: "version1", raw: cat(header(0x40, 96, 1, 2, 3), psPayload), err: ErrVersion},
	{name: "rtcp_rr", raw: []byte{0x80, 201, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, err: ErrRTCP},
	{name: "csrc_short", raw: cat(header(0x8f, 96, 1, 2, 3), []byte{1, 2, 3, 4}), err: ErrShort},
	{name: "extension_short", raw: cat(header(0x90, 96, 1, 2, 3), []byte{0xbe, 0xde, 0x00, 0x09, 1, 2, 3, 4}), err: ErrShort},
	{name: "extension_header_short", raw: cat(header(0x90, 96, 1, 2, 3), []byte{0xbe, 0xde}), err: ErrShort},
	{name: "padding_long", raw: cat(header(0xa0, 96, 1, 2, 3), []byte{1, 2, 9}), err: ErrPadding},
}

func TestPacketUnmarshal(t *testing.T) {
	for _, c := range packetCases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			err := p.Unmarshal(c.raw)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(p.Payload, c.want.Payload) {
				t.Errorf("payload = %x, want %x", p.Payload, c.want.Payload)
			}
			p.Payload, c.want.Payload = nil, nil
			if !equalHeader(p, c.want) {
				t.Errorf("got %+v, want %+v", p, c.want)
			}
		})
	}
}

func TestPacketMarshal(t *testing.T) {
	in := Packet{Marker: true, PayloadType: 96, SequenceNumber: 513, Timestamp: 90000, SSRC: 123456789, Payload: psPayload}
	raw := in.Marshal(nil)
	var out Packet
	if err := out.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Payload, in.Payload) {
		t.Fatalf("payload %x", out.Payload)
	}
	if !equalHeader(out, in) {
		t.Fatalf("got %+v, want %+v", out, in)
	}
}

func TestPeekSSRC(t *testing.T) {
	if ssrc, ok := PeekSSRC(packetCases[1].raw); !ok || ssrc != 200001234 {
		t.Errorf("PeekSSRC = %d, %v", ssrc, ok)
	}
	for _, raw := range [][]byte{nil, {0x80, 96}, {0x80, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0x40, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, ok := PeekSSRC(raw); ok {
			t.Errorf("PeekSSRC(%x) ok", raw)
		}
	}
}

func TestUnmarshalAllocs(t *testing.T) {
	raw := packetCases[7].raw
	var p Packet
	if n := testing.AllocsPerRun(100, func() { _ = p.Unmarshal(raw) }); n != 0 {
		t.Fatalf("%v allocations per Unmarshal", n)
	}
}

// equalHeader compares everything but the payload.
func equalHeader(a, b Packet) bool {
	a.Payload, b.Payload = nil, nil
	type plain struct {
		m        bool
		pt       uint8
		seq      uint16
		ts, ssrc uint32
		cc       uint8
		x        bool
		xp       uint16
		pad      uint8
	}
	pa := plain{a.Marker, a.PayloadType, a.SequenceNumber, a.Timestamp, a.SSRC, a.CSRCCount, a.Extension, a.ExtensionProfile, a.Padding}
	pb := plain{b.Marker, b.PayloadType, b.SequenceNumber, b.Timestamp, b.SSRC, b.CSRCCount, b.Extension, b.ExtensionProfile, b.Padding}
	return pa == pb
}
