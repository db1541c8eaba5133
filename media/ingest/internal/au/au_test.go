package au

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// recorder is a Sink that keeps everything.
type recorder struct {
	params   []*unit.Params
	units    []*unit.Unit
	problems []error
}

func (r *recorder) SetTrack(_ int, p *unit.Params) { r.params = append(r.params, p) }
func (r *recorder) WriteUnit(u *unit.Unit)         { r.units = append(r.units, u) }
func (r *recorder) Problem(_ string, err error)    { r.problems = append(r.problems, err) }

func annexB(nalus [][]byte) []byte {
	var b []byte
	for i, n := range nalus {
		if i%2 == 0 {
			b = append(b, 0, 0, 0, 1)
		} else {
			b = append(b, 0, 0, 1)
		}
		b = append(b, n...)
	}
	return b
}

func TestSplitAnnexB(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{1, 2, 3}, nil},
		{"three", []byte{0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3, 3}, [][]byte{{0x67, 1}, {0x68, 2}, {0x65, 3, 3}}},
		{"leading garbage and trailing zeros", []byte{9, 9, 0, 0, 1, 0x41, 7, 0, 0, 0, 0, 0, 1, 0x41, 8, 0, 0}, [][]byte{{0x41, 7}, {0x41, 8}}},
		{"empty nal units", []byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0x09, 0xf0}, [][]byte{{0x09, 0xf0}}},
		{"cut start code", []byte{0, 0, 1, 0x41, 0, 0}, [][]byte{{0x41}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SplitAnnexB(nil, c.in)
			if len(got) != len(c.want) {
				t.Fatalf("got %x, want %x", got, c.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) {
					t.Fatalf("got %x, want %x", got, c.want)
				}
			}
		})
	}
}

// frameTicks is one frame of the 25 fps clips in 90 kHz ticks.
const frameTicks = VideoClockRate / 25

func TestVideo(t *testing.T) {
	cases := []struct {
		clip    string
		codec   unit.Codec
		nParams int
		isParam func([]byte) bool
	}{
		{testsrc.ClipH264, unit.CodecH264, 2, func(n []byte) bool {
			typ := h264.NALUType(n[0] & 0x1f)
			return typ == h264.NALUTypeSPS || typ == h264.NALUTypePPS
		}},
		{testsrc.ClipH265, unit.CodecH265, 3, func(n []byte) bool {
			typ := h265.NALUType((n[0] >> 1) & 0x3f)
			return typ == h265.NALUType_VPS_NUT || typ == h265.NALUType_SPS_NUT || typ == h265.NALUType_PPS_NUT
		}},
	}
	for _, c := range cases {
		for _, withDTS := range []bool{true, false} {
			name := c.codec.String() + "/extracted"
			if withDTS {
				name = c.codec.String() + "/given"
			}
			t.Run(name, func(t *testing.T) {
				clip, err := testsrc.LoadVideo(c.clip)
				if err != nil {
					t.Fatal(err)
				}
				var rec recorder
				v := &Video{Track: 0, Codec: c.codec, Sink: &rec}
				// Start mid-GOP: the first frames are undecodable.
				frames := clip.Frames[10:]
				for i, fr := range frames {
					// An access unit delimiter, as many cameras send.
					nalus := fr.NALUs
					if c.codec == unit.CodecH264 {
						nalus = append([][]byte{{0x09, 0xf0}}, nalus...)
					} else {
						nalus = append([][]byte{{0x46, 0x01, 0x50}}, nalus...)
					}
					au := SplitAnnexB(nil, bytes.Clone(annexB(nalus)))
					pts := int64(1000000 + i*frameTicks)
					if withDTS {
						v.WriteAUWithDTS(au, pts, pts)
					} else {
						v.WriteAU(au, pts)
					}
				}
				if len(rec.problems) != 0 {
					t.Errorf("problems: %v", rec.problems)
				}
				if len(rec.params) != 1 || rec.params[0].Width != clip.Width || rec.params[0].Height != clip.Height || !rec.params[0].Ready() {
					t.Fatalf("params %v", rec.params)
				}
				if want := len(frames) - 15; len(rec.units) != want {
					t.Fatalf("%d units, want %d", len(rec.units), want)
				}
				for i, u := range rec.units {
					if i == 0 && !u.Key {
						t.Error("first unit is not a keyframe")
					}
					if i > 0 && u.DTS <= rec.units[i-1].DTS {
						t.Errorf("unit %d: DTS %v not after %v", i, u.DTS, rec.units[i-1].DTS)
					}
					params := 0
					for j, nalu := range u.Data {
						if c.isParam(nalu) {
							params++
							if j >= c.nParams {
								t.Errorf("unit %d: parameter set at %d", i, j)
							}
						}
						if len(nalu) == 3 && (nalu[0] == 0x09 || nalu[0] == 0x46) {
							t.Errorf("unit %d: delimiter kept", i)
						}
					}
					if u.Key && params != c.nParams || !u.Key && params != 0 {
						t.Errorf("unit %d (key %v): %d parameter sets", i, u.Key, params)
					}
				}
				if d := rec.units[0].PTS; d != Ticks(1000000+15*frameTicks, VideoClockRate) {
					t.Errorf("first PTS %v", d)
				}
			})
		}
	}
}

func TestVideoParamsChange(t *testing.T) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH264)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	v := &Video{Codec: unit.CodecH264, Sink: &rec}
	v.WriteAUWithDTS(clip.Frames[0].NALUs, 0, 0)
	// A new PPS in band: new parameters, and the keyframe carries them.
	pps := append(bytes.Clone(clip.PPS), 0x80)
	au := [][]byte{clip.SPS, pps}
	for _, n := range clip.Frames[0].NALUs {
		if h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
			au = append(au, n)
		}
	}
	v.WriteAUWithDTS(au, frameTicks, frameTicks)
	if len(rec.params) != 2 || !bytes.Equal(rec.params[1].PPS, pps) {
		t.Fatalf("params %v", rec.params)
	}
	if u := rec.units[1]; !bytes.Equal(u.Data[1], pps) {
		t.Fatalf("keyframe starts with the old PPS")
	}
}

func TestVideoDTSMissing(t *testing.T) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH264)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	v := &Video{Codec: unit.CodecH264, Sink: &rec}
	// A camera clock reset: one big step back is not B-frames.
	v.WriteAUWithDTS(clip.Frames[0].NALUs, 900000, 900000)
	v.WriteAUWithDTS(clip.Frames[1].NALUs, 0, 0)
	v.WriteAUWithDTS(clip.Frames[2].NALUs, frameTicks, frameTicks)
	if len(rec.problems) != 0 || v.extract {
		t.Fatalf("clock reset taken for B-frames: %v", rec.problems)
	}
	// Presentation order I P B B P B B with DTS = PTS: steps back.
	order := []int64{0, 3, 1, 2, 6, 4, 5}
	for i, o := range order {
		v.WriteAUWithDTS(clip.Frames[3+i].NALUs, (10+o)*frameTicks, (10+o)*frameTicks)
	}
	if len(rec.problems) != 1 || !errors.Is(rec.problems[0], ErrDTSMissing) || !v.extract {
		t.Fatalf("problems %v, extract %v", rec.problems, v.extract)
	}
}

func adtsFrames(t testing.TB, clip *testsrc.AudioClip, frames [][]byte) []byte {
	t.Helper()
	pkts := make(mpeg4audio.ADTSPackets, len(frames))
	for i, f := range frames {
		pkts[i] = &mpeg4audio.ADTSPacket{
			Type: clip.Config.Type, SampleRate: clip.SampleRate, ChannelConfig: clip.Config.ChannelConfig,
			ChannelCount: clip.Channels, //nolint:staticcheck // Marshal still reads it
			AU:           f,
		}
	}
	b, err := pkts.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAACWriteADTS(t *testing.T) {
	clip, err := testsrc.LoadAudio(testsrc.ClipAAC)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	a := &AAC{Track: 1, ClockRate: VideoClockRate, Sink: &rec}
	a.WriteADTS(adtsFrames(t, clip, clip.Frames[:3]), 90000)
	a.WriteADTS(adtsFrames(t, clip, clip.Frames[3:4]), 90000+3*1024*90000/44100)
	if len(rec.problems) != 0 {
		t.Fatalf("problems %v", rec.problems)
	}
	want, _ := clip.Config.Marshal()
	if len(rec.params) != 1 || !bytes.Equal(rec.params[0].AudioConfig, want) ||
		rec.params[0].SampleRate != 44100 || rec.params[0].Channels != 1 {
		t.Fatalf("params %+v, want config %x", rec.params[0], want)
	}
	var conf mpeg4audio.AudioSpecificConfig
	if err := conf.Unmarshal(rec.params[0].AudioConfig); err != nil {
		t.Fatal(err)
	}
	if len(rec.units) != 4 {
		t.Fatalf("%d units", len(rec.units))
	}
	step := 1024 * time.Second / 44100
	for i, u := range rec.units {
		if !bytes.Equal(u.Data[0], clip.Frames[i]) {
			t.Errorf("unit %d: wrong payload", i)
		}
		want := time.Second + time.Duration(i)*step
		if d := u.PTS - want; d < -time.Millisecond || d > time.Millisecond || u.DTS != u.PTS || !u.Key || u.Track != 1 {
			t.Errorf("unit %d: PTS %v DTS %v, want %v", i, u.PTS, u.DTS, want)
		}
	}
}

func TestAACWriteADTSErrors(t *testing.T) {
	clip, err := testsrc.LoadAudio(testsrc.ClipAAC)
	if err != nil {
		t.Fatal(err)
	}
	good := adtsFrames(t, clip, clip.Frames[:2])
	cases := []struct {
		name  string
		in    []byte
		units int
		err   error
	}{
		{"garbage", []byte("not adts at all"), 0, ErrADTSSync},
		{"truncated second", good[:len(good)-3], 1, ErrADTSLength},
		{"pce channels", func() []byte { b := bytes.Clone(good); b[2] &^= 0x01; b[3] &^= 0xc0; return b }(), 0, ErrADTSConfig},
		{"blocks", func() []byte { b := bytes.Clone(good); b[6] |= 1; return b }(), 0, ErrADTSBlocks},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rec recorder
			a := &AAC{ClockRate: VideoClockRate, Sink: &rec}
			a.WriteADTS(c.in, 0)
			if len(rec.units) != c.units || len(rec.problems) != 1 || !errors.Is(rec.problems[0], c.err) {
				t.Fatalf("%d units, problems %v", len(rec.units), rec.problems)
			}
		})
	}
}

func TestAACWriteAUs(t *testing.T) {
	clip, err := testsrc.LoadAudio(testsrc.ClipAAC)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	a := &AAC{ClockRate: clip.SampleRate, Sink: &rec}
	a.WriteAUs(clip.Frames[:1], 0) // before the config: dropped
	if err := a.SetConfig(clip.Config); err != nil {
		t.Fatal(err)
	}
	a.WriteAUs(clip.Frames[:2], 44100+1)
	// The frames add up in ticks of the sample rate, rounded once: where the
	// next packet's timestamp puts them.
	if len(rec.units) != 2 || rec.units[1].PTS != Ticks(44100+1+1024, 44100) {
		t.Fatalf("units %v", rec.units)
	}
	if rec.params[0].Channels != 1 || rec.params[0].SampleRate != 44100 {
		t.Fatalf("params %+v", rec.params[0])
	}
}

func TestG711(t *testing.T) {
	var rec recorder
	g := &G711{Track: 1, ClockRate: VideoClockRate, Sink: &rec}
	g.Write([]byte{1}, 0) // not declared: dropped
	g.SetFormat(unit.CodecPCMA, 0, 0)
	g.SetFormat(unit.CodecPCMA, 8000, 1) // the same: no new declaration
	g.Write(make([]byte, 160), 90000)
	g.Write(nil, 90000)
	if len(rec.params) != 1 || rec.params[0].SampleRate != 8000 || rec.params[0].Channels != 1 {
		t.Fatalf("params %v", rec.params)
	}
	if len(rec.units) != 1 || rec.units[0].PTS != time.Second || rec.units[0].Track != 1 {
		t.Fatalf("units %v", rec.units)
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		rate int
		want time.Duration
	}{
		{90000, VideoClockRate, time.Second},
		{45000, VideoClockRate, 500 * time.Millisecond},
		{3600, VideoClockRate, 40 * time.Millisecond},
		{1024, 44100, 23219954 * time.Nanosecond},
		{1 << 40, VideoClockRate, 12216795864177777 * time.Nanosecond}, // ~141 days, no overflow
	} {
		if got := Ticks(tc.v, tc.rate); got != tc.want {
			t.Errorf("Ticks(%d, %d) = %v, want %v", tc.v, tc.rate, got, tc.want)
		}
	}
}

func BenchmarkSplitAnnexB(b *testing.B) {
	clip, err := testsrc.LoadVideo(testsrc.ClipH264HD)
	if err != nil {
		b.Fatal(err)
	}
	var frames [][]byte
	var size int64
	for _, fr := range clip.Frames {
		frames = append(frames, annexB(fr.NALUs))
		size += int64(len(frames[len(frames)-1]))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var dst [][]byte
	for b.Loop() {
		for _, f := range frames {
			dst = SplitAnnexB(dst[:0], f)
		}
	}
}
