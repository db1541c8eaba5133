// Package flv reads and writes FLV, the container of HTTP-FLV and WS-FLV
// (Adobe Flash Video File Format Specification v10.1, annex E), including the
// enhanced FLV of E-RTMP v1 (Veovera "Enhancing RTMP, FLV", 2023) for H.265.
//
// The muxer side turns a unit.Unit into complete tags (header, body and the
// following PreviousTagSize) with AppendUnit; UnitTags caches those bytes on
// the unit so that the work is done once per stream for all viewers. The
// file header, the onMetaData script tag and the codec sequence headers
// depend on the viewer's start and are built per viewer.
//
// The demuxer side, Reader, parses an FLV byte stream into typed tags. It is
// a parser of network input: it never panics and bounds what it allocates.
package flv

import "errors"

// Limits of the format.
const (
	// MaxTagSize is the largest tag body: DataSize is a UI24 (E.4.1).
	MaxTagSize = 1<<24 - 1
	// tagHeaderSize is the size of TagType, DataSize, Timestamp,
	// TimestampExtended and StreamID (E.4.1).
	tagHeaderSize = 11
	// prevTagSizeSize is the size of a PreviousTagSize field (E.3).
	prevTagSizeSize = 4
	// headerSize is the size of the FLV file header, version 1 (E.2).
	headerSize = 9
)

// Errors returned by the muxer and the Reader.
var (
	// ErrTooLarge is returned when a tag body would exceed MaxTagSize.
	ErrTooLarge = errors.New("flv: tag larger than 16 MiB")
	// ErrUnsupportedCodec is returned by the muxer for a codec FLV cannot carry.
	ErrUnsupportedCodec = errors.New("flv: unsupported codec")
	// ErrParamsNotReady is returned when a sequence header is asked for
	// parameters that lack parameter sets or the AAC config.
	ErrParamsNotReady = errors.New("flv: codec parameters incomplete")
	// ErrInvalidHeader is returned by Reader.ReadHeader when the stream does
	// not start with an FLV header.
	ErrInvalidHeader = errors.New("flv: invalid file header")
	// ErrPreviousTagSize is returned by Reader.ReadTag when a PreviousTagSize
	// does not match the tag before it: the stream lost its framing.
	ErrPreviousTagSize = errors.New("flv: PreviousTagSize mismatch")
	// ErrShortBody is returned when a tag body is too short for its fields.
	ErrShortBody = errors.New("flv: tag body too short")
)
