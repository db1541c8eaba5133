package unit

import (
	"bytes"
	"fmt"
)

// Codec identifies a codec the media core carries.
type Codec uint8

// Codecs carried by the media core.
const (
	CodecUnknown Codec = iota
	CodecH264
	CodecH265
	CodecAAC
	CodecPCMA // G.711 A-law
	CodecPCMU // G.711 µ-law
)

// String returns the codec's usual name.
func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H264"
	case CodecH265:
		return "H265"
	case CodecAAC:
		return "AAC"
	case CodecPCMA:
		return "PCMA"
	case CodecPCMU:
		return "PCMU"
	}
	return "unknown"
}

// IsVideo reports whether c is a video codec.
func (c Codec) IsVideo() bool { return c == CodecH264 || c == CodecH265 }

// Params are the parameters a decoder needs for a track. A Params value is
// immutable once attached to a unit; a change makes a new value.
type Params struct {
	Codec Codec

	// Video parameter sets (VPS for H.265 only), without start codes.
	VPS, SPS, PPS []byte
	// Width and Height in pixels, parsed from the SPS (0 when unknown).
	Width, Height int

	// AudioConfig is the AAC AudioSpecificConfig (AAC only).
	AudioConfig []byte
	// SampleRate is the audio clock rate in Hz (video: 90000).
	SampleRate int
	// Channels is the audio channel count.
	Channels int
}

// Equal reports whether p and q describe the same decoder configuration.
func (p *Params) Equal(q *Params) bool {
	if p == q {
		return true
	}
	if p == nil || q == nil {
		return false
	}
	return p.Codec == q.Codec &&
		bytes.Equal(p.VPS, q.VPS) && bytes.Equal(p.SPS, q.SPS) && bytes.Equal(p.PPS, q.PPS) &&
		bytes.Equal(p.AudioConfig, q.AudioConfig) &&
		p.SampleRate == q.SampleRate && p.Channels == q.Channels
}

// Ready reports whether the parameters are complete enough to start a
// decoder: parameter sets for video, the config for AAC.
func (p *Params) Ready() bool {
	switch p.Codec {
	case CodecH264:
		return p.SPS != nil && p.PPS != nil
	case CodecH265:
		return p.VPS != nil && p.SPS != nil && p.PPS != nil
	case CodecAAC:
		return p.AudioConfig != nil
	case CodecPCMA, CodecPCMU:
		return true
	}
	return false
}

// String describes the parameters for logs and the API, e.g. "H264 1280x720".
func (p *Params) String() string {
	if p.Codec.IsVideo() {
		if p.Width > 0 {
			return fmt.Sprintf("%v %dx%d", p.Codec, p.Width, p.Height)
		}
		return p.Codec.String()
	}
	return fmt.Sprintf("%v %d Hz %d ch", p.Codec, p.SampleRate, p.Channels)
}
