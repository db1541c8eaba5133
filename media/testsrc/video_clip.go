package testsrc

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/nvr/nvr/media/unit"
)

// Video codec names used in VideoClip.Codec.
const (
	CodecH264 = "H264"
	CodecH265 = "H265"
)

// defaultFPS is used when the SPS carries no VUI timing information.
// All committed clips are 25 fps.
const defaultFPS = 25

// Errors returned by LoadVideo for a clip it cannot use.
var (
	// ErrNoParameterSets is returned when a clip lacks SPS/PPS (or VPS for H.265).
	ErrNoParameterSets = errors.New("clip has no parameter sets")
	// ErrNoFrames is returned when a clip holds no picture.
	ErrNoFrames = errors.New("clip has no frames")
)

// VideoClip is an elementary-stream video clip loaded into memory, ready to be
// replayed in a loop.
type VideoClip struct {
	// Codec is CodecH264 or CodecH265.
	Codec string
	// VPS (H.265 only), SPS and PPS are the first parameter sets of the clip.
	VPS, SPS, PPS []byte
	// Frames are the access units in decoding order (no B-frames, so also
	// presentation order).
	Frames []VideoFrame
	// FPS is the frame rate, from the SPS timing information.
	FPS int
	// Width and Height are the picture size, from the SPS.
	Width, Height int
}

// VideoFrame is one access unit.
type VideoFrame struct {
	// NALUs are the NAL units of the access unit, without start codes.
	// Key frames start with the parameter sets.
	NALUs [][]byte
	// Key is true for a random access point: IDR for H.264, IRAP for H.265.
	Key bool
}

// Duration returns how long one pass of the clip lasts.
func (c *VideoClip) Duration() time.Duration {
	return time.Duration(len(c.Frames)) * time.Second / time.Duration(c.FPS)
}

// LoadVideo loads an embedded Annex-B clip (ClipH264, ClipH265, ClipH264HD).
// The codec is taken from the file extension.
func LoadVideo(name string) (*VideoClip, error) {
	var codec string
	switch {
	case strings.HasSuffix(name, ".h264"):
		codec = CodecH264
	case strings.HasSuffix(name, ".h265"):
		codec = CodecH265
	default:
		return nil, fmt.Errorf("%w: %q is not a video clip", ErrUnknownClip, name)
	}

	buf, err := readClip(name)
	if err != nil {
		return nil, err
	}

	c := &VideoClip{Codec: codec}
	nalus := splitAnnexB(buf)
	if codec == CodecH264 {
		err = c.fillH264(nalus)
	} else {
		err = c.fillH265(nalus)
	}
	if err != nil {
		return nil, fmt.Errorf("clip %q: %w", name, err)
	}
	return c, nil
}

// auBuilder groups NAL units into access units with the rule that fits clips
// made by x264/x265: parameter sets, SEI and AUD open a new access unit when
// the current one already has a picture, and a VCL NAL unit that is the first
// slice of a picture does the same (H.264 7.4.1.2.3, H.265 7.4.2.4.4).
type auBuilder struct {
	frames []VideoFrame
	cur    [][]byte
	hasVCL bool
}

func (b *auBuilder) flush(isKey func([][]byte) bool) {
	if b.hasVCL {
		b.frames = append(b.frames, VideoFrame{NALUs: b.cur, Key: isKey(b.cur)})
	}
	b.cur = nil
	b.hasVCL = false
}

// add appends a NAL unit. startsAU tells whether it opens a new access unit
// when a picture is already pending; vcl whether it is a slice.
func (b *auBuilder) add(nalu []byte, startsAU, vcl bool, isKey func([][]byte) bool) {
	if startsAU && b.hasVCL {
		b.flush(isKey)
	}
	b.cur = append(b.cur, nalu)
	if vcl {
		b.hasVCL = true
	}
}

func (c *VideoClip) fillH264(nalus [][]byte) error {
	var b auBuilder
	for _, nalu := range nalus {
		typ := h264.NALUType(nalu[0] & 0x1f)
		switch typ {
		case h264.NALUTypeSPS:
			if c.SPS == nil {
				c.SPS = nalu
			}
			b.add(nalu, true, false, h264.IsRandomAccess)
		case h264.NALUTypePPS:
			if c.PPS == nil {
				c.PPS = nalu
			}
			b.add(nalu, true, false, h264.IsRandomAccess)
		case h264.NALUTypeSEI, h264.NALUTypeAccessUnitDelimiter:
			b.add(nalu, true, false, h264.IsRandomAccess)
		case h264.NALUTypeNonIDR, h264.NALUTypeDataPartitionA, h264.NALUTypeIDR:
			// first_mb_in_slice is the first ue(v) of the slice header; a
			// leading 1 bit codes 0, the first slice of a picture.
			first := len(nalu) > 1 && nalu[1]&0x80 != 0
			b.add(nalu, first, true, h264.IsRandomAccess)
		default:
			// data partitions B/C, end of sequence, filler: trail the picture.
			b.add(nalu, false, false, h264.IsRandomAccess)
		}
	}
	b.flush(h264.IsRandomAccess)

	if c.SPS == nil || c.PPS == nil {
		return ErrNoParameterSets
	}
	if len(b.frames) == 0 {
		return ErrNoFrames
	}
	var sps h264.SPS
	if err := sps.Unmarshal(c.SPS); err != nil {
		return fmt.Errorf("SPS: %w", err)
	}
	c.Frames = b.frames
	c.Width, c.Height = sps.Width(), sps.Height()
	c.FPS = roundFPS(sps.FPS())
	return nil
}

func (c *VideoClip) fillH265(nalus [][]byte) error {
	var b auBuilder
	for _, nalu := range nalus {
		if len(nalu) < 2 {
			continue // shorter than the NAL unit header
		}
		typ := h265.NALUType((nalu[0] >> 1) & 0x3f)
		switch {
		case typ == h265.NALUType_VPS_NUT:
			if c.VPS == nil {
				c.VPS = nalu
			}
			b.add(nalu, true, false, h265.IsRandomAccess)
		case typ == h265.NALUType_SPS_NUT:
			if c.SPS == nil {
				c.SPS = nalu
			}
			b.add(nalu, true, false, h265.IsRandomAccess)
		case typ == h265.NALUType_PPS_NUT:
			if c.PPS == nil {
				c.PPS = nalu
			}
			b.add(nalu, true, false, h265.IsRandomAccess)
		case typ == h265.NALUType_AUD_NUT, typ == h265.NALUType_PREFIX_SEI_NUT:
			b.add(nalu, true, false, h265.IsRandomAccess)
		case typ < h265.NALUType_VPS_NUT:
			// Types 0-31 are VCL. first_slice_segment_in_pic_flag is the
			// first bit after the 2-byte header.
			first := len(nalu) > 2 && nalu[2]&0x80 != 0
			b.add(nalu, first, true, h265.IsRandomAccess)
		default:
			// suffix SEI, end of sequence/bitstream, filler: trail the picture.
			b.add(nalu, false, false, h265.IsRandomAccess)
		}
	}
	b.flush(h265.IsRandomAccess)

	if c.VPS == nil || c.SPS == nil || c.PPS == nil {
		return ErrNoParameterSets
	}
	if len(b.frames) == 0 {
		return ErrNoFrames
	}
	var sps h265.SPS
	if err := sps.Unmarshal(c.SPS); err != nil {
		return fmt.Errorf("SPS: %w", err)
	}
	c.Frames = b.frames
	c.Width, c.Height = sps.Width(), sps.Height()
	c.FPS = roundFPS(sps.FPS())
	return nil
}

func roundFPS(fps float64) int {
	n := int(math.Round(fps))
	if n <= 0 {
		return defaultFPS
	}
	return n
}

// Params returns the clip's codec parameters as an ingest declares them.
func (c *VideoClip) Params() *unit.Params {
	p := &unit.Params{Codec: unit.CodecH264, SPS: c.SPS, PPS: c.PPS, Width: c.Width, Height: c.Height, SampleRate: 90000}
	if c.Codec == CodecH265 {
		p.Codec, p.VPS = unit.CodecH265, c.VPS
	}
	return p
}
