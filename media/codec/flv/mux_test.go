package flv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// clipUnits loads a video and an audio clip and returns their parameters and
// units, interleaved by DTS as a publisher would write them. audio may be "".
func clipUnits(tb testing.TB, video, audio string) (vp, ap *unit.Params, units []*unit.Unit) {
	tb.Helper()
	vc, err := testsrc.LoadVideo(video)
	if err != nil {
		tb.Fatal(err)
	}
	vp = &unit.Params{Codec: unit.CodecH264, SPS: vc.SPS, PPS: vc.PPS, Width: vc.Width, Height: vc.Height, SampleRate: 90000}
	if vc.Codec == testsrc.CodecH265 {
		vp.Codec, vp.VPS = unit.CodecH265, vc.VPS
	}
	for i, f := range vc.Frames {
		dts := time.Duration(i) * time.Second / time.Duration(vc.FPS)
		units = append(units, &unit.Unit{Track: 0, Params: vp, DTS: dts, PTS: dts, Key: f.Key, Data: f.NALUs})
	}
	if audio == "" {
		return vp, nil, units
	}
	ac, err := testsrc.LoadAudio(audio)
	if err != nil {
		tb.Fatal(err)
	}
	ap = &unit.Params{Codec: unit.CodecPCMA, SampleRate: ac.SampleRate, Channels: ac.Channels}
	if ac.Codec == testsrc.CodecAAC {
		ap.Codec = unit.CodecAAC
		if ap.AudioConfig, err = ac.Config.Marshal(); err != nil {
			tb.Fatal(err)
		}
	}
	for i, f := range ac.Frames {
		dts := time.Duration(i*ac.SamplesPerFrame) * time.Second / time.Duration(ac.SampleRate)
		units = append(units, &unit.Unit{Track: 1, Params: ap, DTS: dts, PTS: dts, Key: true, Data: [][]byte{f}})
	}
	slices.SortStableFunc(units, func(a, b *unit.Unit) int { return int(a.DTS - b.DTS) })
	return vp, ap, units
}

// muxFile muxes units the way an HTTP-FLV viewer gets them.
func muxFile(tb testing.TB, vp, ap *unit.Params, units []*unit.Unit) []byte {
	tb.Helper()
	b := Header{HasVideo: vp != nil, HasAudio: ap != nil}.Append(nil)
	b, err := AppendMetadata(b, vp, ap)
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range []*unit.Params{vp, ap} {
		if p != nil {
			if b, err = AppendSequenceHeader(b, p, 0); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for _, u := range units {
		tags := UnitTags(u)
		if tags == nil {
			tb.Fatalf("unit at %v: no tags", u.DTS)
		}
		b = append(b, tags...)
	}
	return b
}

// readAll reads every tag of an FLV byte stream.
func readAll(tb testing.TB, b []byte) (Header, []*Tag) {
	tb.Helper()
	r := NewReader(bytes.NewReader(b))
	h, err := r.ReadHeader()
	if err != nil {
		tb.Fatal(err)
	}
	var tags []*Tag
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return h, tags
		}
		if err != nil {
			tb.Fatalf("tag %d: %v", len(tags), err)
		}
		tags = append(tags, tag)
	}
}

// needTool returns the path of an external tool, skipping the test when it is
// missing unless NVR_REQUIRE_TOOLS=1.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("NVR_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

func TestMuxWithFFmpeg(t *testing.T) {
	ffprobe, ffmpeg := needTool(t, "ffprobe"), needTool(t, "ffmpeg")
	for _, c := range []struct {
		audio string
		want  []string
	}{
		{testsrc.ClipAAC, []string{`streams.stream.1.codec_name="aac"`, `streams.stream.1.sample_rate="44100"`}},
		{testsrc.ClipPCMA, []string{`streams.stream.1.codec_name="pcm_alaw"`, `streams.stream.1.sample_rate="8000"`, `streams.stream.1.channels=1`}},
	} {
		t.Run(c.audio, func(t *testing.T) {
			vp, ap, units := clipUnits(t, testsrc.ClipH264, c.audio)
			file := filepath.Join(t.TempDir(), "out.flv")
			if err := os.WriteFile(file, muxFile(t, vp, ap, units), 0o644); err != nil {
				t.Fatal(err)
			}

			out, err := exec.Command(ffprobe, "-v", "error", "-show_streams", "-of", "flat", file).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			got := string(out)
			want := append([]string{
				`streams.stream.0.codec_name="h264"`,
				`streams.stream.0.width=320`,
				`streams.stream.0.height=240`,
			}, c.want...)
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("ffprobe output lacks %s:\n%s", w, got)
				}
			}

			out, err = exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) != 0 {
				t.Fatalf("ffmpeg decode: %v\n%s", err, out)
			}
		})
	}
}

func TestMuxH265PCMARoundTrip(t *testing.T) {
	vp, ap, units := clipUnits(t, testsrc.ClipH265, testsrc.ClipPCMA)
	h, tags := readAll(t, muxFile(t, vp, ap, units))
	if !h.HasVideo || !h.HasAudio {
		t.Fatalf("header %+v", h)
	}
	if len(tags) != 2+len(units) {
		t.Fatalf("%d tags, want %d", len(tags), 2+len(units))
	}

	meta := tags[0].Script
	if meta == nil || meta.Name != "onMetaData" {
		t.Fatalf("first tag %+v", tags[0])
	}
	m := meta.Value.(ECMAArray)
	for k, want := range map[string]any{"width": 320.0, "height": 240.0, "videocodecid": float64(FourCCHEVC), "audiocodecid": 7.0, "audiosamplerate": 8000.0, "stereo": false, "framerate": 25.0} {
		if got, _ := m.Get(k); got != want {
			t.Errorf("metadata %s = %v, want %v", k, got, want)
		}
	}

	seq := tags[1].Video
	if seq == nil || !seq.Enhanced || seq.FourCC != FourCCHEVC || seq.PacketType != PacketTypeSequenceStart || seq.FrameType != FrameKey {
		t.Fatalf("sequence start %+v", tags[1])
	}
	var rec HEVCDecoderConfigurationRecord
	if err := rec.Unmarshal(seq.Payload); err != nil {
		t.Fatal(err)
	}
	spss := rec.NALUs(h265.NALUType_SPS_NUT)
	if len(spss) != 1 || !bytes.Equal(spss[0], vp.SPS) || !bytes.Equal(rec.NALUs(h265.NALUType_VPS_NUT)[0], vp.VPS) || !bytes.Equal(rec.NALUs(h265.NALUType_PPS_NUT)[0], vp.PPS) {
		t.Fatal("parameter sets differ")
	}
	var sps h265.SPS
	if err := sps.Unmarshal(spss[0]); err != nil {
		t.Fatal(err)
	}
	if sps.Width() != 320 || sps.Height() != 240 {
		t.Fatalf("SPS says %dx%d", sps.Width(), sps.Height())
	}

	for i, u := range units {
		tag := tags[2+i]
		if tag.Timestamp != Timestamp(u.DTS) {
			t.Fatalf("unit %d: timestamp %d, want %d", i, tag.Timestamp, Timestamp(u.DTS))
		}
		if u.Track == 1 {
			a := tag.Audio
			if a == nil || a.Format != SoundPCMA || a.Stereo || !a.Size16 || a.Rate != 0 || !bytes.Equal(a.Payload, u.Data[0]) {
				t.Fatalf("unit %d: %+v", i, tag)
			}
			continue
		}
		v := tag.Video
		wantFT := FrameInter
		if u.Key {
			wantFT = FrameKey
		}
		if v == nil || !v.Enhanced || v.FourCC != FourCCHEVC || v.PacketType != PacketTypeCodedFramesX || v.FrameType != wantFT {
			t.Fatalf("unit %d: %+v", i, v)
		}
		var au h264.AVCC
		if err := au.Unmarshal(v.Payload); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual([][]byte(au), u.Data) {
			t.Fatalf("unit %d: NAL units differ", i)
		}
	}
}

func TestAppendUnit(t *testing.T) {
	h264p := &unit.Params{Codec: unit.CodecH264, SPS: []byte{0x67, 0x4d, 0, 0x1e}, PPS: []byte{0x68}}
	h265p := &unit.Params{Codec: unit.CodecH265}
	aacp := &unit.Params{Codec: unit.CodecAAC, SampleRate: 44100, Channels: 1}
	pcmu := &unit.Params{Codec: unit.CodecPCMU, SampleRate: 8000, Channels: 1}
	ms := time.Millisecond
	for _, c := range []struct {
		name string
		u    *unit.Unit
		want []Tag
	}{
		{
			name: "h264 key with b-frame delay",
			u:    &unit.Unit{Params: h264p, DTS: 1000*ms + 900*time.Microsecond, PTS: 1080*ms + 100*time.Microsecond, Key: true, Data: [][]byte{{0x09, 0xf0}, {}, {0x65, 1, 2}}},
			want: []Tag{{Type: TagVideo, Timestamp: 1000, Video: &VideoTag{FrameType: FrameKey, CodecID: VideoCodecAVC, PacketType: AVCNALU, CTS: 80,
				Payload: hexBytes("00000002 09f0 00000003 650102")}}},
		},
		{
			name: "h265 inter with cts",
			u:    &unit.Unit{Params: h265p, DTS: 40 * ms, PTS: 120 * ms, Data: [][]byte{{0x02, 0x01, 0xaa}}},
			want: []Tag{{Type: TagVideo, Timestamp: 40, Video: &VideoTag{FrameType: FrameInter, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeCodedFrames, CTS: 80,
				Payload: hexBytes("00000003 0201aa")}}},
		},
		{
			name: "h265 key without cts",
			u:    &unit.Unit{Params: h265p, DTS: 0x100000000 * ms, PTS: 0x100000000 * ms, Key: true, Data: [][]byte{{0x26, 0x01}}},
			want: []Tag{{Type: TagVideo, Timestamp: 0, Video: &VideoTag{FrameType: FrameKey, Enhanced: true, FourCC: FourCCHEVC, PacketType: PacketTypeCodedFramesX,
				Payload: hexBytes("00000002 2601")}}},
		},
		{
			name: "aac, two access units",
			u:    &unit.Unit{Params: aacp, DTS: 100 * ms, Key: true, Data: [][]byte{{1}, {2, 3}}},
			want: []Tag{
				{Type: TagAudio, Timestamp: 100, Audio: &AudioTag{Format: SoundAAC, Rate: SoundRate44k, Size16: true, Stereo: true, PacketType: AACRaw, Payload: []byte{1}}},
				{Type: TagAudio, Timestamp: 123, Audio: &AudioTag{Format: SoundAAC, Rate: SoundRate44k, Size16: true, Stereo: true, PacketType: AACRaw, Payload: []byte{2, 3}}},
			},
		},
		{
			name: "pcmu, samples in two slices",
			u:    &unit.Unit{Params: pcmu, DTS: -5 * ms, Key: true, Data: [][]byte{{0xff, 0x7f}, {0x00}}},
			want: []Tag{{Type: TagAudio, Timestamp: 0, Audio: &AudioTag{Format: SoundPCMU, Size16: true, Payload: []byte{0xff, 0x7f, 0}}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := AppendUnit(nil, c.u)
			if err != nil {
				t.Fatal(err)
			}
			if n := unitSize(c.u); n < len(b) {
				t.Errorf("unitSize %d < %d bytes written", n, len(b))
			}
			if memo := UnitTags(c.u); !bytes.Equal(memo, b) {
				t.Fatal("UnitTags differs from AppendUnit")
			}
			var want []byte
			for _, tag := range c.want {
				if want, err = tag.Append(want); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("got  % x\nwant % x", b, want)
			}
		})
	}
}

func TestUnitTagsMemo(t *testing.T) {
	_, _, units := clipUnits(t, testsrc.ClipH264, "")
	u := units[0]
	a, b := UnitTags(u), UnitTags(u)
	if len(a) == 0 || &a[0] != &b[0] {
		t.Fatal("UnitTags built the tags twice")
	}
	if got := testing.AllocsPerRun(100, func() { UnitTags(u) }); got != 0 {
		t.Fatalf("cached UnitTags allocates %v times", got)
	}
}

func TestMuxErrors(t *testing.T) {
	if _, err := AppendUnit(nil, &unit.Unit{}); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("no params: %v", err)
	}
	u := &unit.Unit{Params: &unit.Params{Codec: unit.CodecUnknown}}
	if _, err := AppendUnit(nil, u); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("unknown codec: %v", err)
	}
	if UnitTags(u) != nil {
		t.Error("UnitTags of an unknown codec")
	}
	big := &unit.Unit{Params: &unit.Params{Codec: unit.CodecH264}, Data: [][]byte{make([]byte, MaxTagSize)}}
	if b, err := AppendUnit([]byte{1}, big); !errors.Is(err, ErrTooLarge) || len(b) != 1 {
		t.Errorf("16 MiB unit: %d bytes, %v", len(b), err)
	}
	if _, err := AppendSequenceHeader(nil, &unit.Params{Codec: unit.CodecH264}, 0); !errors.Is(err, ErrParamsNotReady) {
		t.Errorf("no SPS: %v", err)
	}
	if _, err := AppendSequenceHeader(nil, &unit.Params{Codec: unit.CodecUnknown}, 0); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("unknown codec: %v", err)
	}
	if b, err := AppendSequenceHeader(nil, &unit.Params{Codec: unit.CodecPCMA}, 0); err != nil || len(b) != 0 {
		t.Errorf("G.711: % x, %v", b, err)
	}
}

func TestSequenceHeaders(t *testing.T) {
	vp, ap, _ := clipUnits(t, testsrc.ClipH264, testsrc.ClipAAC)
	b, err := AppendSequenceHeader(nil, vp, 40)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = AppendSequenceHeader(b, ap, 40); err != nil {
		t.Fatal(err)
	}
	_, tags := readAll(t, append(Header{}.Append(nil), b...))
	if len(tags) != 2 || tags[0].Timestamp != 40 || tags[1].Timestamp != 40 {
		t.Fatalf("tags %+v", tags)
	}
	v := tags[0].Video
	if v.CodecID != VideoCodecAVC || v.PacketType != AVCSequenceHeader || v.FrameType != FrameKey || v.CTS != 0 {
		t.Fatalf("video %+v", v)
	}
	var rec AVCDecoderConfigurationRecord
	if err := rec.Unmarshal(v.Payload); err != nil || !bytes.Equal(rec.SPS[0], vp.SPS) || !bytes.Equal(rec.PPS[0], vp.PPS) {
		t.Fatalf("record %+v, %v", rec, err)
	}
	a := tags[1].Audio
	if a.Format != SoundAAC || a.PacketType != AACSequenceHeader || !bytes.Equal(a.Payload, ap.AudioConfig) || tags[1].Body[0] != 0xaf {
		t.Fatalf("audio %+v", a)
	}
}
