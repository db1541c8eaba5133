package gbmedia

import (
	"errors"
	"fmt"
	"sort"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// Names of the clip sets a Sender can play.
const (
	// ClipSetH264G711A is testsrc.ClipH264 (320x240) with testsrc.ClipPCMA,
	// about 210 kbit/s.
	ClipSetH264G711A = "h264+g711a"
	// ClipSetH265AAC is testsrc.ClipH265 (320x240) with testsrc.ClipAAC.
	ClipSetH265AAC = "h265+aac"
	// ClipSetH264HDG711A is testsrc.ClipH264HD (1280x720, about 2 Mbit/s)
	// with testsrc.ClipPCMA: real 2 Mbit/s content for load tests.
	ClipSetH264HDG711A = "h264hd+g711a"
)

// ErrUnknownClipSet is returned by Sender.Start when the clip set chosen for
// a channel is not one of the ClipSet names.
var ErrUnknownClipSet = errors.New("unknown clip set")

// clipSetFiles maps a clip set name to its video and audio clips.
var clipSetFiles = map[string][2]string{
	ClipSetH264G711A:   {testsrc.ClipH264, testsrc.ClipPCMA},
	ClipSetH265AAC:     {testsrc.ClipH265, testsrc.ClipAAC},
	ClipSetH264HDG711A: {testsrc.ClipH264HD, testsrc.ClipPCMA},
}

// ClipSets returns the names of the clip sets, sorted.
func ClipSets() []string {
	names := make([]string, 0, len(clipSetFiles))
	for n := range clipSetFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// clipSet is a pair of clips prepared for the PS muxer. It is read-only once
// built and shared by every session that plays it.
type clipSet struct {
	name string

	videoCodec unit.Codec
	fps        int
	// video holds each access unit in Annex-B form, padded to the Sender's
	// Bitrate when it asks for more than the clip has.
	video []clipFrame
	// keys are the indices of the keyframes in video, ascending.
	keys []int

	audioCodec unit.Codec
	// audio holds what WriteAudio takes: ADTS frames for AAC (ISO/IEC
	// 13818-1 stream type 0x0F is ADTS), raw samples for G.711.
	audio           [][]byte
	audioRate       int
	samplesPerFrame int
}

// clipFrame is one video access unit in Annex-B form.
type clipFrame struct {
	annexB []byte
	key    bool
}

// Filler NAL unit headers. Filler data is legal anywhere after the first
// slice of a picture (H.264 7.4.1.2.3, H.265 7.4.2.4.4) and every decoder
// drops it, so padding with it keeps both the bitstream and the PS valid.
var (
	fillerH264 = []byte{12}               // nal_unit_type 12, nal_ref_idc 0
	fillerH265 = []byte{byte(38 << 1), 1} // FD_NUT, nuh_temporal_id_plus1 1
	startCode  = []byte{0, 0, 0, 1}
)

// minFiller is the smallest padding worth a filler NAL unit: start code,
// header and the rbsp_trailing_bits byte.
const minFiller = 8

// loadClipSet loads and prepares a clip set. bitrate, when above the natural
// rate of the set, pads the video (see padVideo).
func loadClipSet(name string, bitrate int) (*clipSet, error) {
	files, ok := clipSetFiles[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownClipSet, name)
	}
	v, err := testsrc.LoadVideo(files[0])
	if err != nil {
		return nil, err
	}
	a, err := testsrc.LoadAudio(files[1])
	if err != nil {
		return nil, err
	}

	cs := &clipSet{
		name:            name,
		fps:             v.FPS,
		audioRate:       a.SampleRate,
		samplesPerFrame: a.SamplesPerFrame,
	}
	filler := fillerH264
	switch v.Codec {
	case testsrc.CodecH264:
		cs.videoCodec = unit.CodecH264
	case testsrc.CodecH265:
		cs.videoCodec = unit.CodecH265
		filler = fillerH265
	default:
		return nil, fmt.Errorf("clip set %q: video codec %q", name, v.Codec)
	}

	cs.video = make([]clipFrame, len(v.Frames))
	for i, f := range v.Frames {
		var b []byte
		for _, n := range f.NALUs {
			b = append(b, startCode...)
			b = append(b, n...)
		}
		cs.video[i] = clipFrame{annexB: b, key: f.Key}
		if f.Key {
			cs.keys = append(cs.keys, i)
		}
	}
	if len(cs.keys) == 0 || cs.keys[0] != 0 {
		// A loop must start with a keyframe, or a reader joining at the loop
		// point waits a whole GOP; the committed clips all start with one.
		return nil, fmt.Errorf("clip set %q: clip does not start with a keyframe", name)
	}

	switch a.Codec {
	case testsrc.CodecPCMA:
		cs.audioCodec = unit.CodecPCMA
		cs.audio = a.Frames
	case testsrc.CodecAAC:
		cs.audioCodec = unit.CodecAAC
		cs.audio = make([][]byte, len(a.Frames))
		for i, au := range a.Frames {
			b, err := mpeg4audio.ADTSPackets{{
				Type:          a.Config.Type,
				SampleRate:    a.Config.SampleRate,
				ChannelConfig: a.Config.ChannelConfig,
				AU:            au,
			}}.Marshal()
			if err != nil {
				return nil, fmt.Errorf("clip set %q: %w", name, err)
			}
			cs.audio[i] = b
		}
	default:
		return nil, fmt.Errorf("clip set %q: audio codec %q", name, a.Codec)
	}

	if bitrate > 0 {
		cs.padVideo(bitrate, filler)
	}
	return cs, nil
}

// psOverhead is the share of the wire rate taken by pack headers, PES
// headers and RTP headers at ~1400-byte payloads, about 3 %; padVideo aims
// the elementary stream below the target by that much.
const psOverhead = 0.03

// padVideo raises the video to about bitrate bits/s (audio included) by
// appending filler NAL units. Frames below the level are filled up to it
// and larger ones (keyframes) are left alone, so the rate is smooth over
// the GOP, like a CBR encoder's.
func (cs *clipSet) padVideo(bitrate int, filler []byte) {
	dur := float64(len(cs.video)) / float64(cs.fps) // seconds per pass
	audioRate := 0.0
	for _, f := range cs.audio {
		audioRate += float64(len(f))
	}
	audioRate /= float64(len(cs.audio)*cs.samplesPerFrame) / float64(cs.audioRate)

	target := (float64(bitrate)/8*(1-psOverhead) - audioRate) * dur
	sizes := make([]int, len(cs.video))
	total := 0
	for i, f := range cs.video {
		sizes[i] = len(f.annexB)
		total += sizes[i]
	}
	deficit := int(target) - total
	if deficit <= 0 {
		return
	}

	// Water filling: find the level L with sum(max(0, L-size)) = deficit.
	sorted := append([]int(nil), sizes...)
	sort.Ints(sorted)
	level, sum := 0, 0
	for k, s := range sorted {
		// With the k smallest frames raised to level L >= their sizes, the fill
		// is k*L - sum; check whether L = s (the next size) is already enough.
		if k*s-sum >= deficit {
			break
		}
		sum += s
		level = (deficit + sum) / (k + 1)
	}

	for i := range cs.video {
		pad := level - sizes[i]
		if pad < minFiller {
			continue
		}
		b := cs.video[i].annexB
		out := make([]byte, 0, len(b)+pad)
		out = append(out, b...)
		out = append(out, startCode...)
		out = append(out, filler...)
		for n := len(startCode) + len(filler) + 1; n < pad; n++ {
			out = append(out, 0xff)
		}
		out = append(out, 0x80) // rbsp_trailing_bits
		cs.video[i].annexB = out
	}
}
