package flv

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/nvr/nvr/media/unit"
)

// aacSamplesPerFrame is the number of samples in one AAC-LC access unit
// (ISO/IEC 14496-3, 4.5.1.1: frameLengthFlag 0).
const aacSamplesPerFrame = 1024

// Supported reports whether the muxer can carry codec c.
func Supported(c unit.Codec) bool {
	switch c {
	case unit.CodecH264, unit.CodecH265, unit.CodecAAC, unit.CodecPCMA, unit.CodecPCMU:
		return true
	}
	return false
}

// Timestamp converts stream time to an FLV timestamp: milliseconds, 0 for
// negative times, wrapping after 2^32 ms (49.7 days) as the field does.
func Timestamp(d time.Duration) uint32 {
	if d < 0 {
		return 0
	}
	return uint32(d / time.Millisecond)
}

// UnitTags returns the complete tags of u (see AppendUnit), built on first
// use and cached on the unit, so that every viewer of a stream shares one
// copy. The bytes depend only on u and must not be modified. It returns nil
// for a unit FLV cannot carry (an unsupported codec, a tag over 16 MiB).
func UnitTags(u *unit.Unit) []byte {
	return u.Memo(unit.MemoFLV, func() []byte {
		b, err := AppendUnit(make([]byte, 0, unitSize(u)), u)
		if err != nil || len(b) == 0 {
			return nil
		}
		return b
	})
}

// AppendUnit appends the complete tags of u to b, each with its
// PreviousTagSize: one video tag for a picture (AVC, or enhanced FLV "hvc1"
// for H.265), one audio tag per AAC access unit, or one audio tag of all the
// unit's G.711 samples. The timestamp is u.DTS in milliseconds; the video
// composition time is PTS - DTS.
func AppendUnit(b []byte, u *unit.Unit) ([]byte, error) {
	if u.Params == nil {
		return b, fmt.Errorf("%w: unit without parameters", ErrUnsupportedCodec)
	}
	ts := Timestamp(u.DTS)
	switch u.Params.Codec {
	case unit.CodecH264, unit.CodecH265:
		return appendVideoUnit(b, u, ts)
	case unit.CodecAAC:
		start := len(b)
		var err error
		for i, au := range u.Data {
			t := ts
			if rate := u.Params.SampleRate; rate > 0 {
				t += uint32(int64(i) * aacSamplesPerFrame * 1000 / int64(rate))
			}
			at := AudioTag{Format: SoundAAC, Rate: SoundRate44k, Size16: true, Stereo: true, PacketType: AACRaw, Payload: au}
			if b, err = appendAudio(b, &at, t); err != nil {
				return b[:start], err
			}
		}
		return b, nil
	case unit.CodecPCMA, unit.CodecPCMU:
		start := len(b)
		b = appendTagHeader(b, TagAudio, 0, ts)
		b = append(b, g711Flags(u.Params.Codec))
		for _, d := range u.Data {
			b = append(b, d...)
		}
		return finishTag(b, start)
	}
	return b, fmt.Errorf("%w: %v", ErrUnsupportedCodec, u.Params.Codec)
}

// g711Flags is the audio tag's first byte for G.711: SoundFormat, the
// "special" rate 0 that the format implies as 8 kHz, 16-bit, mono; the same
// flags FFmpeg's flvenc writes.
func g711Flags(c unit.Codec) byte {
	f := SoundPCMA
	if c == unit.CodecPCMU {
		f = SoundPCMU
	}
	return byte(f)<<4 | 0x02
}

func appendAudio(b []byte, a *AudioTag, ts uint32) ([]byte, error) {
	start := len(b)
	b = appendTagHeader(b, TagAudio, 0, ts)
	b = a.Append(b)
	return finishTag(b, start)
}

// appendVideoUnit writes the NAL units with 4-byte length prefixes (AVCC,
// ISO/IEC 14496-15 5.3.4.2) straight into the tag, with no intermediate copy.
func appendVideoUnit(b []byte, u *unit.Unit, ts uint32) ([]byte, error) {
	start := len(b)
	b = appendTagHeader(b, TagVideo, 0, ts)
	ft := FrameInter
	if u.Key {
		ft = FrameKey
	}
	// Both times are floored to milliseconds so that DTS + CTS gives the
	// PTS a reader computes from PTS alone.
	cts := int32(Timestamp(u.PTS)) - int32(ts)
	if u.PTS < u.DTS {
		cts = 0
	}
	v := VideoTag{FrameType: ft, CTS: cts}
	if u.Params.Codec == unit.CodecH264 {
		v.CodecID, v.PacketType = VideoCodecAVC, AVCNALU
	} else {
		// E-RTMP v1: CodedFramesX saves the 3 bytes of a zero composition time.
		v.Enhanced, v.FourCC, v.PacketType = true, FourCCHEVC, PacketTypeCodedFramesX
		if cts != 0 {
			v.PacketType = PacketTypeCodedFrames
		}
	}
	b = v.Append(b)
	for _, n := range u.Data {
		if len(n) == 0 {
			continue
		}
		l := len(n)
		b = append(b, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		b = append(b, n...)
	}
	return finishTag(b, start)
}

// unitSize returns the size of u's tags, so that UnitTags allocates once.
func unitSize(u *unit.Unit) int {
	const perTag = tagHeaderSize + prevTagSizeSize
	switch {
	case u.Params == nil:
		return 0
	case u.Params.Codec.IsVideo():
		n := perTag + 1 + 4 + 3 // enhanced header with CTS is the longest
		for _, d := range u.Data {
			n += 4 + len(d)
		}
		return n
	case u.Params.Codec == unit.CodecAAC:
		return len(u.Data)*(perTag+2) + u.Size()
	}
	return perTag + 1 + u.Size()
}

// AppendSequenceHeader appends the tag that configures the decoder of a
// track with parameters p, at timestamp ts: the AVC sequence header, the
// enhanced "hvc1" SequenceStart, or the AAC AudioSpecificConfig. G.711 needs
// none: b is returned unchanged.
func AppendSequenceHeader(b []byte, p *unit.Params, ts uint32) ([]byte, error) {
	if !Supported(p.Codec) {
		return b, fmt.Errorf("%w: %v", ErrUnsupportedCodec, p.Codec)
	}
	if !p.Ready() {
		return b, fmt.Errorf("%w: %v", ErrParamsNotReady, p)
	}
	start := len(b)
	switch p.Codec {
	case unit.CodecH264:
		rec, err := NewAVCDecoderConfigurationRecord(p.SPS, p.PPS)
		if err != nil {
			return b, err
		}
		b = appendTagHeader(b, TagVideo, 0, ts)
		b = (&VideoTag{FrameType: FrameKey, CodecID: VideoCodecAVC, PacketType: AVCSequenceHeader}).Append(b)
		if b, err = rec.Append(b); err != nil {
			return b[:start], err
		}
	case unit.CodecH265:
		rec, err := NewHEVCDecoderConfigurationRecord(p.VPS, p.SPS, p.PPS)
		if err != nil {
			return b, err
		}
		b = appendTagHeader(b, TagVideo, 0, ts)
		b = (&VideoTag{FrameType: FrameKey, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeSequenceStart}).Append(b)
		if b, err = rec.Append(b); err != nil {
			return b[:start], err
		}
	case unit.CodecAAC:
		at := AudioTag{Format: SoundAAC, Rate: SoundRate44k, Size16: true, Stereo: true, PacketType: AACSequenceHeader, Payload: p.AudioConfig}
		return appendAudio(b, &at, ts)
	default:
		return b, nil
	}
	return finishTag(b, start)
}

// AppendMetadata appends the onMetaData script tag (E.5) describing the
// video and audio tracks, either of which may be nil, at timestamp 0.
func AppendMetadata(b []byte, video, audio *unit.Params) ([]byte, error) {
	t := Tag{Type: TagScript, Script: &ScriptTag{Name: "onMetaData", Value: Metadata(video, audio)}}
	return t.Append(b)
}

// Metadata returns the onMetaData properties for the given tracks: picture
// size, frame rate when the SPS carries timing, codec ids (the FourCC as a
// number for enhanced codecs, as E-RTMP v1 says), audio rate and channels.
func Metadata(video, audio *unit.Params) ECMAArray {
	var m ECMAArray
	if video != nil {
		if video.Width > 0 && video.Height > 0 {
			m = append(m, Property{"width", float64(video.Width)}, Property{"height", float64(video.Height)})
		}
		switch video.Codec {
		case unit.CodecH264:
			m = append(m, Property{"videocodecid", float64(VideoCodecAVC)})
		case unit.CodecH265:
			m = append(m, Property{"videocodecid", float64(FourCCHEVC)})
		}
		if fps := frameRate(video); fps > 0 {
			m = append(m, Property{"framerate", fps})
		}
	}
	if audio != nil {
		switch audio.Codec {
		case unit.CodecAAC:
			m = append(m, Property{"audiocodecid", float64(SoundAAC)})
		case unit.CodecPCMA:
			m = append(m, Property{"audiocodecid", float64(SoundPCMA)})
		case unit.CodecPCMU:
			m = append(m, Property{"audiocodecid", float64(SoundPCMU)})
		}
		if audio.SampleRate > 0 {
			m = append(m, Property{"audiosamplerate", float64(audio.SampleRate)})
		}
		m = append(m, Property{"audiosamplesize", float64(16)}, Property{"stereo", audio.Channels > 1})
	}
	return m
}

// frameRate returns the frame rate from the SPS timing information, or 0.
func frameRate(p *unit.Params) float64 {
	switch p.Codec {
	case unit.CodecH264:
		var s h264.SPS
		if s.Unmarshal(p.SPS) == nil {
			return s.FPS()
		}
	case unit.CodecH265:
		var s h265.SPS
		if s.Unmarshal(p.SPS) == nil {
			return s.FPS()
		}
	}
	return 0
}
