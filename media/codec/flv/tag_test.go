package flv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// hexBytes decodes hex written with spaces for readability.
func hexBytes(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// frame wraps a tag body in a tag header and PreviousTagSize, written out
// independently of appendTagHeader/finishTag.
func frame(typ TagType, ts uint32, body string) []byte {
	b := hexBytes(body)
	n := len(b)
	out := []byte{byte(typ), byte(n >> 16), byte(n >> 8), byte(n), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0}
	out = append(out, b...)
	p := n + 11
	return append(out, byte(p>>24), byte(p>>16), byte(p>>8), byte(p))
}

// tagCases drive the marshal test, the Reader test and the fuzz seeds.
var tagCases = []struct {
	name string
	tag  Tag
	enc  []byte
}{
	{
		// Written out in full, framing included.
		name: "avc sequence header",
		tag: Tag{Type: TagVideo, Video: &VideoTag{
			FrameType: FrameKey, CodecID: VideoCodecAVC, PacketType: AVCSequenceHeader,
			Payload: hexBytes("01 4d 00 1e ff e1 0004 674d001e 01 0002 68ee"),
		}},
		enc: hexBytes("09 000016 000000 00 000000" + "17 00 000000" + "01 4d 00 1e ff e1 0004 674d001e 01 0002 68ee" + "00000021"),
	},
	{
		name: "avc nalu, extended timestamp, cts",
		tag: Tag{Type: TagVideo, Timestamp: 0x01020304, Video: &VideoTag{
			FrameType: FrameInter, CodecID: VideoCodecAVC, PacketType: AVCNALU, CTS: 80,
			Payload: hexBytes("00000002 419a"),
		}},
		enc: frame(TagVideo, 0x01020304, "27 01 000050 00000002 419a"),
	},
	{
		name: "avc negative cts",
		tag: Tag{Type: TagVideo, Timestamp: 1000, Video: &VideoTag{
			FrameType: FrameKey, CodecID: VideoCodecAVC, PacketType: AVCNALU, CTS: -40,
			Payload: hexBytes("00000001 65"),
		}},
		enc: frame(TagVideo, 1000, "17 01 ffffd8 00000001 65"),
	},
	{
		name: "avc end of sequence",
		tag:  Tag{Type: TagVideo, Timestamp: 5, Video: &VideoTag{FrameType: FrameKey, CodecID: VideoCodecAVC, PacketType: AVCEndOfSequence, Payload: []byte{}}},
		enc:  frame(TagVideo, 5, "17 02 000000"),
	},
	{
		name: "hevc sequence start",
		tag: Tag{Type: TagVideo, Video: &VideoTag{
			FrameType: FrameKey, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeSequenceStart,
			Payload: hexBytes("01 01 60000000 900000000000 5d f000 fc fd f8 f8 0000 0f 00"),
		}},
		enc: frame(TagVideo, 0, "90 68766331 01 01 60000000 900000000000 5d f000 fc fd f8 f8 0000 0f 00"),
	},
	{
		name: "hevc coded frames with cts",
		tag: Tag{Type: TagVideo, Timestamp: 40, Video: &VideoTag{
			FrameType: FrameInter, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeCodedFrames, CTS: 120,
			Payload: hexBytes("00000003 020101"),
		}},
		enc: frame(TagVideo, 40, "a1 68766331 000078 00000003 020101"),
	},
	{
		name: "hevc coded frames x",
		tag: Tag{Type: TagVideo, Timestamp: 80, Video: &VideoTag{
			FrameType: FrameKey, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeCodedFramesX,
			Payload: hexBytes("00000003 260101"),
		}},
		enc: frame(TagVideo, 80, "93 68766331 00000003 260101"),
	},
	{
		name: "enhanced sequence end",
		tag:  Tag{Type: TagVideo, Timestamp: 90, Video: &VideoTag{FrameType: FrameKey, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeSequenceEnd, Payload: []byte{}}},
		enc:  frame(TagVideo, 90, "92 68766331"),
	},
	{
		name: "enhanced command frame",
		tag:  Tag{Type: TagVideo, Timestamp: 7, Video: &VideoTag{FrameType: FrameCommand, Enhanced: true, PacketType: PacketTypeCodedFrames, Command: 1, Payload: []byte{}}},
		enc:  frame(TagVideo, 7, "d1 01"),
	},
	{
		name: "legacy non-avc codec",
		tag:  Tag{Type: TagVideo, Timestamp: 1, Video: &VideoTag{FrameType: FrameInter, CodecID: 2, Payload: hexBytes("abcd")}},
		enc:  frame(TagVideo, 1, "22 abcd"),
	},
	{
		name: "aac sequence header",
		tag: Tag{Type: TagAudio, Audio: &AudioTag{
			Format: SoundAAC, Rate: SoundRate44k, Size16: true, Stereo: true, PacketType: AACSequenceHeader,
			Payload: hexBytes("1208"),
		}},
		enc: frame(TagAudio, 0, "af 00 1208"),
	},
	{
		name: "aac raw",
		tag: Tag{Type: TagAudio, Timestamp: 23, Audio: &AudioTag{
			Format: SoundAAC, Rate: SoundRate44k, Size16: true, Stereo: true, PacketType: AACRaw,
			Payload: hexBytes("2110"),
		}},
		enc: frame(TagAudio, 23, "af 01 2110"),
	},
	{
		name: "pcma",
		tag:  Tag{Type: TagAudio, Timestamp: 20, Audio: &AudioTag{Format: SoundPCMA, Size16: true, Payload: hexBytes("d5d5d5d5")}},
		enc:  frame(TagAudio, 20, "72 d5d5d5d5"),
	},
	{
		name: "pcmu",
		tag:  Tag{Type: TagAudio, Timestamp: 40, Audio: &AudioTag{Format: SoundPCMU, Size16: true, Payload: hexBytes("ffff")}},
		enc:  frame(TagAudio, 40, "82 ffff"),
	},
	{
		name: "onMetaData",
		tag: Tag{Type: TagScript, Script: &ScriptTag{Name: "onMetaData", Value: ECMAArray{
			{"width", 320.0},
			{"stereo", false},
			{"encoder", "nvr"},
		}}},
		enc: frame(TagScript, 0, "02 000a 6f6e4d65746144617461"+
			"08 00000003"+
			"0005 7769647468 00 4074000000000000"+
			"0006 73746572656f 01 00"+
			"0007 656e636f646572 02 0003 6e7672"+
			"0000 09"),
	},
	{
		name: "script with every AMF0 type",
		tag: Tag{Type: TagScript, Timestamp: 3, Script: &ScriptTag{Name: "x", Value: StrictArray{
			nil, Undefined{}, Unsupported{}, Reference(2), true,
			Object{{"a", 1.0}, {"", "empty key"}},
			Date{Millis: 1, TimeZone: -1},
			XMLDocument("<a/>"),
			TypedObject{ClassName: "C", Properties: []Property{{"k", StrictArray{}}}},
		}}},
		enc: frame(TagScript, 3, "02 0001 78"+
			"0a 00000009"+
			"05 06 0d 07 0002 01 01"+
			"03 0001 61 00 3ff0000000000000 0000 02 0009 656d707479206b6579 0000 09"+
			"0b 3ff0000000000000 ffff"+
			"0f 00000004 3c612f3e"+
			"10 0001 43 0001 6b 0a 00000000 0000 09"),
	},
	{
		name: "unknown tag type",
		tag:  Tag{Type: 7, Timestamp: 9, Body: hexBytes("010203")},
		enc:  frame(7, 9, "010203"),
	},
	{
		name: "encrypted tag",
		tag:  Tag{Type: TagVideo, Filter: true, Body: hexBytes("0102")},
		enc:  append([]byte{0x29}, frame(TagVideo, 0, "0102")[1:]...),
	},
}

func TestTagMarshal(t *testing.T) {
	for _, c := range tagCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.tag.Append([]byte{0xee})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[1:], c.enc) || got[0] != 0xee {
				t.Fatalf("got  % x\nwant % x", got[1:], c.enc)
			}
		})
	}
}

func TestTagUnmarshal(t *testing.T) {
	for _, c := range tagCases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(append(Header{HasVideo: true}.Append(nil), c.enc...)))
			got, err := r.ReadTag()
			if err != nil {
				t.Fatal(err)
			}
			want := c.tag
			want.Body = c.enc[tagHeaderSize : len(c.enc)-prevTagSizeSize]
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("got  %+v\nwant %+v", *got, want)
			}
			if _, err := r.ReadTag(); err != io.EOF {
				t.Fatalf("after the last tag: %v, want io.EOF", err)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	for _, h := range []Header{{}, {HasAudio: true}, {HasVideo: true}, {HasAudio: true, HasVideo: true}} {
		b := h.Append(nil)
		if len(b) != 13 || string(b[:4]) != "FLV\x01" {
			t.Fatalf("%+v: % x", h, b)
		}
		got, err := NewReader(bytes.NewReader(b)).ReadHeader()
		if err != nil || got != h {
			t.Fatalf("%+v: read %+v, %v", h, got, err)
		}
	}
	if b := (Header{HasAudio: true, HasVideo: true}).Append(nil); b[4] != 0x05 {
		t.Fatalf("flags 0x%02x, want 0x05", b[4])
	}
}

func TestReaderErrors(t *testing.T) {
	hdr := Header{HasVideo: true}.Append(nil)
	good := tagCases[0].enc
	badPrev := bytes.Clone(good)
	badPrev[len(badPrev)-1]++
	forged := []byte{9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"not flv", []byte("GIF89a\x00\x00\x00\x09\x00\x00\x00\x00"), ErrInvalidHeader},
		{"short header", hdr[:7], io.ErrUnexpectedEOF},
		{"huge data offset", append([]byte("FLV\x01\x05\xff\xff\xff\xff"), 0, 0, 0, 0), ErrInvalidHeader},
		{"small data offset", append([]byte("FLV\x01\x05\x00\x00\x00\x05"), 0, 0, 0, 0), ErrInvalidHeader},
		{"no PreviousTagSize0", hdr[:9], io.ErrUnexpectedEOF},
		{"truncated tag header", append(bytes.Clone(hdr), good[:5]...), io.ErrUnexpectedEOF},
		{"truncated body", append(bytes.Clone(hdr), good[:20]...), io.ErrUnexpectedEOF},
		{"no PreviousTagSize", append(bytes.Clone(hdr), good[:len(good)-2]...), io.ErrUnexpectedEOF},
		{"bad PreviousTagSize", append(bytes.Clone(hdr), badPrev...), ErrPreviousTagSize},
		{"forged 16 MiB size", append(bytes.Clone(hdr), forged...), io.ErrUnexpectedEOF},
		{"empty video body", append(bytes.Clone(hdr), frame(TagVideo, 0, "")...), ErrShortBody},
		{"short enhanced header", append(bytes.Clone(hdr), frame(TagVideo, 0, "90 6876")...), ErrShortBody},
		{"short cts", append(bytes.Clone(hdr), frame(TagVideo, 0, "17 01 00")...), ErrShortBody},
		{"empty audio body", append(bytes.Clone(hdr), frame(TagAudio, 0, "")...), ErrShortBody},
		{"aac without packet type", append(bytes.Clone(hdr), frame(TagAudio, 0, "af")...), ErrShortBody},
		{"script name not a string", append(bytes.Clone(hdr), frame(TagScript, 0, "00 0000000000000000")...), ErrAMF},
		{"script bad marker", append(bytes.Clone(hdr), frame(TagScript, 0, "02 0001 78 04")...), ErrAMF},
		{"script long string too long", append(bytes.Clone(hdr), frame(TagScript, 0, "02 0001 78 0c ffffffff 00")...), ErrAMF},
		{"script strict array too long", append(bytes.Clone(hdr), frame(TagScript, 0, "02 0001 78 0a ffffffff 00")...), ErrAMF},
		{"script nested too deep", append(bytes.Clone(hdr), frame(TagScript, 0, "02 0001 78"+strings.Repeat("0a 00000001", 40)+"05")...), ErrAMF},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(c.in)).ReadTag()
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestReaderDecodeErrorKeepsFraming checks that a tag whose body cannot be
// decoded is returned, and that the next tag can still be read.
func TestReaderDecodeErrorKeepsFraming(t *testing.T) {
	in := Header{HasVideo: true}.Append(nil)
	in = append(in, frame(TagVideo, 0, "")...)
	in = append(in, tagCases[1].enc...)
	r := NewReader(bytes.NewReader(in))
	tag, err := r.ReadTag()
	if !errors.Is(err, ErrShortBody) || tag == nil || tag.Video != nil || tag.Type != TagVideo {
		t.Fatalf("got %+v, %v", tag, err)
	}
	if tag, err = r.ReadTag(); err != nil || tag.Video == nil || tag.Timestamp != 0x01020304 {
		t.Fatalf("next tag: %+v, %v", tag, err)
	}
}

func TestRaiseTimestamps(t *testing.T) {
	var b []byte
	for _, ts := range []uint32{10, 30, 0x01000005} {
		b = append(b, frame(TagAudio, ts, "af 01 00")...)
	}
	b = append(b, frame(TagAudio, 0xfffffff0, "af 01 00")...)
	last, raised := RaiseTimestamps(b, 20)
	if last != 20 || raised != 2 {
		// 0xfffffff0 is before 20 in serial arithmetic: it is raised to 20.
		t.Fatalf("last %d, raised %d", last, raised)
	}
	r := NewReader(bytes.NewReader(append(Header{}.Append(nil), b...)))
	for _, want := range []uint32{20, 30, 0x01000005, 20} {
		tag, err := r.ReadTag()
		if err != nil || tag.Timestamp != want {
			t.Fatalf("got %+v, %v; want timestamp %d", tag, err, want)
		}
	}
	if last, raised := RaiseTimestamps(b[:5], 100); last != 100 || raised != 0 {
		t.Fatalf("malformed input: %d, %d", last, raised)
	}
	// Across the 32-bit wrap, a small timestamp after a large one is ahead.
	wrap := frame(TagAudio, 5, "af 01 00")
	if last, raised := RaiseTimestamps(wrap, 0xfffffff0); last != 5 || raised != 0 {
		t.Fatalf("wrap: %d, %d", last, raised)
	}
}
