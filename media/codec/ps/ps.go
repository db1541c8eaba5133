// Package ps reads and writes the MPEG-2 Program Stream (ISO/IEC 13818-1,
// 2.5) as GB28181 devices send it over RTP (GB/T 28181-2016, Appendix C).
//
// Demuxer turns the byte stream, fed in pieces of any size (one RTP payload
// each, typically), into access units: one Annex-B picture per video frame,
// one PES worth of ADTS or G.711 per audio frame. It is written for what
// cameras really send rather than for the standard alone: a program stream
// map that is missing, late or wrong, H.265 declared as H.264, video PES
// packets without a length, a pack header before every PES, private
// streams, and bytes lost on UDP. It never panics, bounds what it buffers,
// and reuses its buffers so that steady-state demuxing does not allocate.
// Told of the RTP marker bits (Marker), it gives a video frame out at its
// last packet rather than when the next frame begins, once the device's
// markers have proven to end frames.
//
// Muxer writes the same format, with switches for the device quirks, for
// the device simulator, cascading to an upper platform, and tests.
package ps

import "errors"

// StreamType is a stream_type of the program stream map (ISO/IEC 13818-1
// table 2-34, GB/T 28181-2016 Appendix C.2).
type StreamType uint8

// Stream types GB28181 devices declare.
const (
	StreamMPEG4  StreamType = 0x10 // MPEG-4 Part 2 video
	StreamH264   StreamType = 0x1B
	StreamH265   StreamType = 0x24
	StreamAAC    StreamType = 0x0F // AAC in ADTS
	StreamG711A  StreamType = 0x90
	StreamG711U  StreamType = 0x91
	StreamG7221  StreamType = 0x92 // G.722.1
	StreamG7231  StreamType = 0x93 // G.723.1
	StreamG729   StreamType = 0x99
	StreamSVAC   StreamType = 0x80 // SVAC video (GB/T 25724)
	StreamSVACAu StreamType = 0x9B // SVAC audio
)

// Stream ids of the PES packets (ISO/IEC 13818-1 table 2-22).
const (
	// VideoStreamID is the stream id the Muxer gives video; the Demuxer
	// takes 0xE0-0xEF as video.
	VideoStreamID = 0xE0
	// AudioStreamID is the stream id the Muxer gives audio; the Demuxer
	// takes 0xC0-0xDF as audio.
	AudioStreamID = 0xC0
	// PrivateStream1ID is private_stream_1, used by Hikvision for its own
	// data; the Demuxer skips it.
	PrivateStream1ID = 0xBD
)

// Start code values (the byte after 00 00 01) that are not PES stream ids.
const (
	idProgramEnd   = 0xB9
	idPackHeader   = 0xBA
	idSystemHeader = 0xBB
	idPSM          = 0xBC
	idPadding      = 0xBE
)

// Limits of the format and of the Demuxer.
const (
	// DefaultMaxFrameSize is the largest frame the Demuxer assembles when
	// Demuxer.MaxFrameSize is 0. A 4K I-frame of a camera stays well under
	// it; a larger "frame" is a stream that lost its framing.
	DefaultMaxFrameSize = 8 << 20
	// maxAudioFrame bounds an audio frame: a PES with a length carries at
	// most 64 KiB; this only matters for an audio PES without a length.
	maxAudioFrame = 256 << 10
	// maxPSMLength is the largest program_stream_map_length (2.5.4.2).
	maxPSMLength = 0x3FA
	// maxStreams bounds the elementary streams followed at once. A GB28181
	// PS has one video and at most one audio stream; spare slots tolerate a
	// device that changes stream ids.
	maxStreams = 4
	// maxPESLength is the largest PES_packet_length.
	maxPESLength = 0xFFFF
	// tsMask keeps the 33 bits of a PTS, DTS or SCR base.
	tsMask = 1<<33 - 1
)

// Errors passed to Demuxer.OnProblem. They describe problems the Demuxer
// recovered from; none is ever returned.
var (
	// ErrSync is reported when bytes that are not a start code were found
	// where a packet should begin: the Demuxer searches for the next one.
	ErrSync = errors.New("ps: no start code where a packet should begin")
	// ErrPackHeader is reported for a pack header of neither MPEG-2 nor
	// MPEG-1 layout.
	ErrPackHeader = errors.New("ps: malformed pack header")
	// ErrSystemHeader is reported for a malformed system header.
	ErrSystemHeader = errors.New("ps: malformed system header")
	// ErrPSM is reported for a program stream map that cannot be parsed
	// (its CRC is not checked: many devices get it wrong).
	ErrPSM = errors.New("ps: malformed program stream map")
	// ErrPESHeader is reported for a malformed PES header.
	ErrPESHeader = errors.New("ps: malformed PES header")
	// ErrFrameTooLarge is reported when a frame grows past MaxFrameSize;
	// it is dropped.
	ErrFrameTooLarge = errors.New("ps: frame too large")
	// ErrUnknownCodec is reported when the codec of a stream cannot be told
	// from the program stream map nor from the data; its frames are skipped.
	ErrUnknownCodec = errors.New("ps: unknown codec")
	// ErrTooManyStreams is reported when a PES belongs to a stream beyond
	// the few the Demuxer follows at once; it is skipped.
	ErrTooManyStreams = errors.New("ps: too many elementary streams")
	// ErrMarker is reported when a frame given out at an RTP marker turns
	// out to continue: the frame went out short, the rest of it is dropped,
	// and markers are ignored from then on (see Demuxer.Marker).
	ErrMarker = errors.New("ps: an RTP marker ended a frame that continued")
)
