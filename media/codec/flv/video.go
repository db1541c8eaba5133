package flv

import "fmt"

// FrameType is the type of a video frame (E.4.3.1; E-RTMP VideoFrameType).
type FrameType uint8

// Frame types.
const (
	FrameKey        FrameType = 1 // a keyframe (seekable)
	FrameInter      FrameType = 2 // an inter frame
	FrameDisposable FrameType = 3 // a disposable inter frame (H.263 only)
	FrameGenerated  FrameType = 4 // a generated keyframe (server use only)
	FrameCommand    FrameType = 5 // a video info / command frame
)

// VideoCodecID is a legacy FLV video codec id (E.4.3.1).
type VideoCodecID uint8

// Video codec ids. H.265 is not among them: it travels as enhanced FLV.
const (
	VideoCodecAVC VideoCodecID = 7
)

// FourCC is an E-RTMP codec FourCC, e.g. FourCCHEVC.
type FourCC uint32

// FourCCs of E-RTMP v1 video codecs.
const (
	FourCCAVC  FourCC = 'a'<<24 | 'v'<<16 | 'c'<<8 | '1'
	FourCCHEVC FourCC = 'h'<<24 | 'v'<<16 | 'c'<<8 | '1'
	FourCCAV1  FourCC = 'a'<<24 | 'v'<<16 | '0'<<8 | '1'
	FourCCVP9  FourCC = 'v'<<24 | 'p'<<16 | '0'<<8 | '9'
)

// String returns the four characters.
func (f FourCC) String() string {
	return string([]byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)})
}

// AVCPacketType values of a legacy AVC video tag (E.4.3.1).
const (
	AVCSequenceHeader uint8 = 0
	AVCNALU           uint8 = 1
	AVCEndOfSequence  uint8 = 2
)

// VideoPacketType values of an enhanced video tag (E-RTMP v1, ExVideoTagHeader).
const (
	PacketTypeSequenceStart        uint8 = 0
	PacketTypeCodedFrames          uint8 = 1
	PacketTypeSequenceEnd          uint8 = 2
	PacketTypeCodedFramesX         uint8 = 3 // CodedFrames with an implicit composition time of 0
	PacketTypeMetadata             uint8 = 4
	PacketTypeMPEG2TSSequenceStart uint8 = 5
)

// VideoTag is the body of a video tag: a legacy VIDEODATA (E.4.3.1) when
// Enhanced is false, an E-RTMP ExVideoTagHeader and body when true.
type VideoTag struct {
	FrameType FrameType
	// Enhanced selects the E-RTMP header (IsExHeader bit) and FourCC.
	Enhanced bool
	// CodecID is the legacy codec id (not enhanced).
	CodecID VideoCodecID
	// FourCC names the codec of an enhanced tag.
	FourCC FourCC
	// PacketType is the AVCPacketType (legacy AVC) or the VideoPacketType
	// (enhanced).
	PacketType uint8
	// CTS is the composition time offset in milliseconds, PTS - DTS: an SI24
	// in legacy AVC tags and in enhanced CodedFrames.
	CTS int32
	// Command is the VideoCommand byte of an enhanced command frame.
	Command uint8
	// Payload is what follows the headers: a decoder configuration record,
	// length-prefixed NAL units, or opaque data of other codecs.
	Payload []byte
}

// hasCTS reports whether the header carries an SI24 composition time.
func (v *VideoTag) hasCTS() bool {
	if v.Enhanced {
		return v.PacketType == PacketTypeCodedFrames && (v.FourCC == FourCCAVC || v.FourCC == FourCCHEVC)
	}
	// Codec id 12 is the widespread pre-E-RTMP "HEVC in FLV" extension,
	// laid out like AVC.
	return v.FrameType != FrameCommand && (v.CodecID == VideoCodecAVC || v.CodecID == 12)
}

// isCommand reports whether an enhanced tag is a command frame, which has a
// VideoCommand byte instead of a FourCC (E-RTMP ExVideoTagHeader).
func (v *VideoTag) isCommand() bool {
	return v.Enhanced && v.FrameType == FrameCommand && v.PacketType != PacketTypeMetadata
}

// Append appends the tag body to b.
func (v *VideoTag) Append(b []byte) []byte {
	if v.Enhanced {
		b = append(b, 0x80|byte(v.FrameType&0x07)<<4|v.PacketType&0x0f)
		if v.isCommand() {
			return append(append(b, v.Command), v.Payload...)
		}
		f := v.FourCC
		b = append(b, byte(f>>24), byte(f>>16), byte(f>>8), byte(f))
	} else {
		b = append(b, byte(v.FrameType&0x0f)<<4|byte(v.CodecID&0x0f))
		if v.CodecID == VideoCodecAVC || v.CodecID == 12 {
			b = append(b, v.PacketType)
		}
	}
	if v.hasCTS() {
		b = appendSI24(b, v.CTS)
	}
	return append(b, v.Payload...)
}

// Unmarshal decodes a video tag body. Payload aliases body.
func (v *VideoTag) Unmarshal(body []byte) error {
	*v = VideoTag{}
	if len(body) < 1 {
		return fmt.Errorf("video: %w", ErrShortBody)
	}
	b0 := body[0]
	pos := 1
	if b0&0x80 != 0 {
		v.Enhanced = true
		v.FrameType = FrameType(b0 >> 4 & 0x07)
		v.PacketType = b0 & 0x0f
		if v.isCommand() {
			if len(body) < 2 {
				return fmt.Errorf("video command: %w", ErrShortBody)
			}
			v.Command = body[1]
			v.Payload = body[2:]
			return nil
		}
		if len(body) < pos+4 {
			return fmt.Errorf("video FourCC: %w", ErrShortBody)
		}
		v.FourCC = FourCC(uint32(body[1])<<24 | uint32(body[2])<<16 | uint32(body[3])<<8 | uint32(body[4]))
		pos += 4
	} else {
		v.FrameType = FrameType(b0 >> 4)
		v.CodecID = VideoCodecID(b0 & 0x0f)
		if v.CodecID == VideoCodecAVC || v.CodecID == 12 {
			if len(body) < 2 {
				return fmt.Errorf("AVC packet type: %w", ErrShortBody)
			}
			v.PacketType = body[1]
			pos++
		}
	}
	if v.hasCTS() {
		if len(body) < pos+3 {
			return fmt.Errorf("composition time: %w", ErrShortBody)
		}
		v.CTS = readSI24(body[pos:])
		pos += 3
	}
	v.Payload = body[pos:]
	return nil
}

// appendSI24 appends a signed 24-bit big-endian integer, saturating.
func appendSI24(b []byte, n int32) []byte {
	n = max(min(n, 1<<23-1), -1<<23)
	return append(b, byte(n>>16), byte(n>>8), byte(n))
}

func readSI24(b []byte) int32 {
	return int32(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8) >> 8
}
