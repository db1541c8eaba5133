package flv

import "fmt"

// TagType is the type of an FLV tag (E.4.1).
type TagType uint8

// Tag types.
const (
	TagAudio  TagType = 8
	TagVideo  TagType = 9
	TagScript TagType = 18
)

// String returns the tag type's name.
func (t TagType) String() string {
	switch t {
	case TagAudio:
		return "audio"
	case TagVideo:
		return "video"
	case TagScript:
		return "script"
	}
	return fmt.Sprintf("TagType(%d)", uint8(t))
}

// Tag is one FLV tag. Exactly one of Video, Audio and Script is set for those
// tag types; Body always holds the raw tag body when the tag was read.
type Tag struct {
	Type TagType
	// Timestamp is the decoding time in milliseconds, including the
	// TimestampExtended byte.
	Timestamp uint32
	// Filter is set for an encrypted tag (E.4.1); its body is not decoded.
	Filter bool

	Video  *VideoTag
	Audio  *AudioTag
	Script *ScriptTag

	// Body is the raw tag body. Append uses it when no typed field is set.
	Body []byte
}

// Append appends the whole tag (header, body, PreviousTagSize) to b.
func (t *Tag) Append(b []byte) ([]byte, error) {
	start := len(b)
	b = appendTagHeader(b, t.Type, 0, t.Timestamp)
	if t.Filter {
		b[start] |= 0x20
	}
	switch {
	case t.Video != nil:
		b = t.Video.Append(b)
	case t.Audio != nil:
		b = t.Audio.Append(b)
	case t.Script != nil:
		var err error
		if b, err = t.Script.Append(b); err != nil {
			return b[:start], err
		}
	default:
		b = append(b, t.Body...)
	}
	return finishTag(b, start)
}

// appendTagHeader appends an 11-byte tag header. size may be 0 and fixed
// later by finishTag.
func appendTagHeader(b []byte, typ TagType, size int, ts uint32) []byte {
	return append(b,
		byte(typ),
		byte(size>>16), byte(size>>8), byte(size),
		byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24), // the extended byte holds bits 24-31
		0, 0, 0, // StreamID is always 0
	)
}

// finishTag fills the DataSize of the tag that starts at b[start] and
// appends its PreviousTagSize.
func finishTag(b []byte, start int) ([]byte, error) {
	size := len(b) - start - tagHeaderSize
	if size > MaxTagSize {
		return b[:start], ErrTooLarge
	}
	b[start+1], b[start+2], b[start+3] = byte(size>>16), byte(size>>8), byte(size)
	total := uint32(size + tagHeaderSize)
	return append(b, byte(total>>24), byte(total>>16), byte(total>>8), byte(total)), nil
}

// RaiseTimestamps raises to min the timestamp of every tag in tags
// (complete tags, as made by Append or AppendUnit) that is before min. An
// output uses it on its private copy of shared tag bytes to keep its
// timestamps from going backwards. "Before" is serial number arithmetic
// (RFC 1982) so that the 32-bit wrap after 49.7 days counts as forward.
// It returns the timestamp of the last tag (min when there is none) and how
// many tags it raised. Malformed input is left as is from the first tag
// that does not fit.
func RaiseTimestamps(tags []byte, min uint32) (last uint32, raised int) {
	last = min
	for len(tags) >= tagHeaderSize+prevTagSizeSize {
		size := int(tags[1])<<16 | int(tags[2])<<8 | int(tags[3])
		total := tagHeaderSize + size + prevTagSizeSize
		if total > len(tags) {
			break
		}
		ts := uint32(tags[4])<<16 | uint32(tags[5])<<8 | uint32(tags[6]) | uint32(tags[7])<<24
		if TimestampBefore(ts, min) {
			ts = min
			tags[4], tags[5], tags[6], tags[7] = byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24)
			raised++
		}
		last = ts
		tags = tags[total:]
	}
	return last, raised
}

// TimestampBefore reports whether FLV timestamp a is before b, in serial
// number arithmetic (RFC 1982): across the 32-bit wrap, a small value that
// follows a large one is after it.
func TimestampBefore(a, b uint32) bool {
	return int32(a-b) < 0
}
