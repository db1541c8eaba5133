package fmp4

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/nvr/nvr/media/unit"
)

// videoTimescale is the clock of video tracks: 90 kHz, the RTP and MPEG-TS
// video clock, fine enough for any frame rate.
const videoTimescale = 90000

// ErrUnsupportedCodec is returned for parameters a Muxer cannot carry.
var ErrUnsupportedCodec = errors.New("codec not supported in fMP4")

// Supported reports whether a Muxer carries a track with these parameters:
// H.264, H.265 or AAC. G.711 is not: browsers' MSE cannot play it.
func Supported(p *unit.Params) bool {
	if p == nil {
		return false
	}
	switch p.Codec {
	case unit.CodecH264, unit.CodecH265, unit.CodecAAC:
		return true
	}
	return false
}

// trackCodec is what the init segment needs for one track.
type trackCodec struct {
	codec     mp4codecs.Codec
	timescale uint32
	str       string // RFC 6381 codecs parameter
}

// newTrackCodec derives the container codec, the timescale and the RFC 6381
// codec string from the parameters. Byte slices are copied: the muxer must not
// alias a Params, which is shared by every reader.
func newTrackCodec(p *unit.Params) (*trackCodec, error) {
	switch p.Codec {
	case unit.CodecH264:
		c := &mp4codecs.H264{SPS: bytes.Clone(p.SPS), PPS: bytes.Clone(p.PPS)}
		return &trackCodec{
			codec:     c,
			timescale: videoTimescale,
			str:       codecparams.Marshal(&hlscodecs.H264{SPS: c.SPS, PPS: c.PPS}),
		}, nil

	case unit.CodecH265:
		c := &mp4codecs.H265{VPS: bytes.Clone(p.VPS), SPS: bytes.Clone(p.SPS), PPS: bytes.Clone(p.PPS)}
		return &trackCodec{
			codec:     c,
			timescale: videoTimescale,
			str:       codecparams.Marshal(&hlscodecs.H265{VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}),
		}, nil

	case unit.CodecAAC:
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(p.AudioConfig); err != nil {
			return nil, fmt.Errorf("AAC AudioSpecificConfig: %w", err)
		}
		if conf.SampleRate <= 0 {
			return nil, fmt.Errorf("AAC AudioSpecificConfig: invalid sample rate %d", conf.SampleRate)
		}
		return &trackCodec{
			codec: &mp4codecs.MPEG4Audio{Config: conf},
			// The AAC sample clock: one access unit is 1024 ticks. With
			// implicit SBR signalling this is the core rate, which is also
			// what AU durations are counted in.
			timescale: uint32(conf.SampleRate),
			str:       codecparams.Marshal(&hlscodecs.MPEG4Audio{Config: conf}),
		}, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupportedCodec, p.Codec)
}

// CodecString returns the RFC 6381 "codecs" parameter for a track, as MSE and
// HLS want it: "avc1.PPCCLL" (RFC 6381 section 3.3), "hvc1.…" (ISO/IEC
// 14496-15 annex E), "mp4a.40.N" with N the audio object type. It returns ""
// when the parameters are not supported or cannot be parsed.
func CodecString(p *unit.Params) string {
	if !Supported(p) {
		return ""
	}
	c, err := newTrackCodec(p)
	if err != nil {
		return ""
	}
	return c.str
}

// mimeType builds the MIME type with codecs parameter (RFC 6381 section 3.1).
func mimeType(video bool, codecs []string) string {
	kind := "audio/mp4"
	if video {
		kind = "video/mp4"
	}
	return kind + `; codecs="` + strings.Join(codecs, ",") + `"`
}
