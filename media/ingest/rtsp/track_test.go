package rtsp

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtplpcm"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// recorder is a sink that keeps everything, for tests without a network.
type recorder struct {
	params   []*unit.Params // every setTrack call, in order
	units    []*unit.Unit
	problems []string
}

func (r *recorder) setTrack(_ int, p *unit.Params) { r.params = append(r.params, p) }
func (r *recorder) write(u *unit.Unit)             { r.units = append(r.units, u) }
func (r *recorder) problem(what string, err error) {
	r.problems = append(r.problems, what+": "+err.Error())
}

func loadVideo(t testing.TB, name string) *testsrc.VideoClip {
	t.Helper()
	c, err := testsrc.LoadVideo(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadAudio(t testing.TB, name string) *testsrc.AudioClip {
	t.Helper()
	c, err := testsrc.LoadAudio(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// frameTicks is one frame of the 25 fps clips in 90 kHz ticks.
const frameTicks = videoClockRate / 25

func checkVideoUnits(t *testing.T, units []*unit.Unit, isParam func([]byte) bool, nParams int) {
	t.Helper()
	if len(units) == 0 {
		t.Fatal("no unit written")
	}
	if !units[0].Key {
		t.Error("first unit is not a keyframe")
	}
	for i, u := range units {
		if u.PTS < u.DTS {
			t.Errorf("unit %d: PTS %v < DTS %v", i, u.PTS, u.DTS)
		}
		if i > 0 && u.DTS <= units[i-1].DTS {
			t.Errorf("unit %d: DTS %v not after %v", i, u.DTS, units[i-1].DTS)
		}
		params := 0
		for j, nalu := range u.Data {
			if isParam(nalu) {
				params++
				if j >= nParams {
					t.Errorf("unit %d: parameter set at position %d", i, j)
				}
			}
		}
		if u.Key && params != nParams {
			t.Errorf("unit %d: keyframe with %d parameter sets, want %d first", i, params, nParams)
		}
		if !u.Key && params != 0 {
			t.Errorf("unit %d: non-keyframe carries %d parameter sets", i, params)
		}
	}
}

func h264IsParam(nalu []byte) bool {
	typ := h264.NALUType(nalu[0] & 0x1f)
	return typ == h264.NALUTypeSPS || typ == h264.NALUTypePPS
}

func h265IsParam(nalu []byte) bool {
	switch h265Type(nalu) {
	case h265.NALUType_VPS_NUT, h265.NALUType_SPS_NUT, h265.NALUType_PPS_NUT:
		return true
	}
	return false
}

func TestH264TrackParamsFromSDP(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH264)
	var rec recorder
	tr, err := newH264Track(0, &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.params) != 1 {
		t.Fatalf("track declared %d times before any packet, want 1", len(rec.params))
	}
	p := rec.params[0]
	if p.Codec != unit.CodecH264 || p.Width != 320 || p.Height != 240 || !p.Ready() {
		t.Fatalf("params = %+v, want a ready H264 320x240", p)
	}

	aud := []byte{byte(h264.NALUTypeAccessUnitDelimiter), 0xf0}
	for i, f := range clip.Frames {
		au := append([][]byte{aud}, f.NALUs...)
		tr.writeAU(au, int64(1000+i*frameTicks))
	}
	if len(rec.units) != len(clip.Frames) {
		t.Fatalf("%d units, want %d", len(rec.units), len(clip.Frames))
	}
	checkVideoUnits(t, rec.units, h264IsParam, 2)
	for i, u := range rec.units {
		for _, nalu := range u.Data {
			if h264.NALUType(nalu[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
				t.Fatalf("unit %d still holds an access unit delimiter", i)
			}
		}
		if u.Key != clip.Frames[i].Key {
			t.Errorf("unit %d: Key = %v, want %v", i, u.Key, clip.Frames[i].Key)
		}
	}
	if !bytes.Equal(rec.units[0].Data[0], clip.SPS) || !bytes.Equal(rec.units[0].Data[1], clip.PPS) {
		t.Error("keyframe does not start with SPS, PPS")
	}
	if got := rec.units[1].PTS - rec.units[0].PTS; got != 40*time.Millisecond {
		t.Errorf("frame interval %v, want 40ms", got)
	}
	if len(rec.params) != 1 {
		t.Errorf("in-band parameter sets equal to the SDP ones re-declared the track (%d calls)", len(rec.params))
	}
	if len(rec.problems) != 0 {
		t.Errorf("problems: %v", rec.problems)
	}
}

func TestH264TrackParamsInBand(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH264)
	hd := loadVideo(t, testsrc.ClipH264HD)
	var rec recorder
	tr, err := newH264Track(0, &format.H264{PayloadTyp: 96, PacketizationMode: 1}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.params) != 0 {
		t.Fatal("track without parameter sets was declared")
	}

	// A picture before any parameter set is dropped, the track stays undeclared.
	tr.writeAU(clip.Frames[1].NALUs, 0)
	if len(rec.params) != 0 || len(rec.units) != 0 {
		t.Fatalf("before parameter sets: %d declarations, %d units", len(rec.params), len(rec.units))
	}

	pts := int64(frameTicks)
	for _, f := range clip.Frames[:30] {
		tr.writeAU(f.NALUs, pts)
		pts += frameTicks
	}
	if len(rec.params) != 1 || rec.params[0].Width != 320 {
		t.Fatalf("after in-band parameter sets: params %v", rec.params)
	}
	n := len(rec.units)

	// The camera switches to 720p: new parameter sets in band, a new Params.
	for _, f := range hd.Frames[:10] {
		tr.writeAU(f.NALUs, pts)
		pts += frameTicks
	}
	if len(rec.params) != 2 {
		t.Fatalf("%d declarations after a resolution change, want 2", len(rec.params))
	}
	p := rec.params[1]
	if p == rec.params[0] || p.Width != 1280 || p.Height != 720 || !bytes.Equal(p.SPS, hd.SPS) {
		t.Fatalf("new params = %v, want a new 1280x720 value", p)
	}
	if !rec.units[n].Key || !bytes.Equal(rec.units[n].Data[0], hd.SPS) {
		t.Error("first 720p unit is not a keyframe led by the new SPS")
	}
	checkVideoUnits(t, rec.units, h264IsParam, 2)
}

func TestH264TrackOverRTP(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH264)
	forma := &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}
	var rec recorder
	tr, err := newH264Track(0, forma, &rec)
	if err != nil {
		t.Fatal(err)
	}
	enc := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	// Join in the middle of a GOP: the first frames are not decodable.
	for i, f := range clip.Frames[10:] {
		pkts, err := enc.Encode(f.NALUs)
		if err != nil {
			t.Fatal(err)
		}
		for j, pkt := range pkts {
			if i == 0 && j == 0 && len(pkts) > 1 {
				continue // lose the start of a fragmented unit
			}
			tr.handle(pkt, int64(i*frameTicks))
		}
	}
	checkVideoUnits(t, rec.units, h264IsParam, 2)
	if want := len(clip.Frames) - 25; len(rec.units) != want {
		t.Errorf("%d units, want %d (from the first IDR on)", len(rec.units), want)
	}
	if len(rec.problems) != 0 {
		t.Errorf("problems: %v", rec.problems)
	}
}

func TestH265Track(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH265)
	var rec recorder
	tr, err := newH265Track(0, &format.H265{PayloadTyp: 96, VPS: clip.VPS, SPS: clip.SPS, PPS: clip.PPS}, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.params) != 1 {
		t.Fatalf("%d declarations, want 1", len(rec.params))
	}
	p := rec.params[0]
	if p.Codec != unit.CodecH265 || p.Width != 320 || p.Height != 240 || !p.Ready() {
		t.Fatalf("params = %+v, want a ready H265 320x240", p)
	}
	aud := []byte{byte(h265.NALUType_AUD_NUT) << 1, 1, 0x50}
	for i, f := range clip.Frames {
		tr.writeAU(append([][]byte{aud}, f.NALUs...), int64(i*frameTicks))
	}
	if len(rec.units) != len(clip.Frames) {
		t.Fatalf("%d units, want %d", len(rec.units), len(clip.Frames))
	}
	checkVideoUnits(t, rec.units, h265IsParam, 3)
	for i, u := range rec.units {
		for _, nalu := range u.Data {
			if h265Type(nalu) == h265.NALUType_AUD_NUT {
				t.Fatalf("unit %d still holds an access unit delimiter", i)
			}
		}
	}
	if len(rec.problems) != 0 {
		t.Errorf("problems: %v", rec.problems)
	}
}

func TestAACTrackSeveralAUsPerPacket(t *testing.T) {
	clip := loadAudio(t, testsrc.ClipAAC)
	forma := &format.MPEG4Audio{PayloadTyp: 97, Config: clip.Config, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
	var rec recorder
	tr, err := newAACTrack(1, forma, &rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.params) != 1 {
		t.Fatalf("%d declarations, want 1", len(rec.params))
	}
	p := rec.params[0]
	if p.Codec != unit.CodecAAC || p.SampleRate != clip.SampleRate || p.Channels != clip.Channels || len(p.AudioConfig) == 0 {
		t.Fatalf("params = %+v", p)
	}

	enc := &rtpmpeg4audio.Encoder{PayloadType: 97, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	pkts, err := enc.Encode(clip.Frames[:4])
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 1 {
		t.Fatalf("encoder made %d packets, want one with 4 AUs", len(pkts))
	}
	const pts = 44100 // 1 s
	tr.handle(pkts[0], pts)
	if len(rec.units) != 4 {
		t.Fatalf("%d units, want 4", len(rec.units))
	}
	for i, u := range rec.units {
		want := ticks(pts+int64(i)*1024, clip.SampleRate)
		if u.PTS != want || u.DTS != want || !u.Key || u.Track != 1 {
			t.Errorf("unit %d: PTS %v DTS %v Key %v Track %d, want PTS=DTS=%v", i, u.PTS, u.DTS, u.Key, u.Track, want)
		}
		if !bytes.Equal(u.Data[0], clip.Frames[i]) {
			t.Errorf("unit %d: payload differs", i)
		}
	}
}

func TestG711Track(t *testing.T) {
	for _, tc := range []struct {
		name  string
		forma *format.G711
		codec unit.Codec
	}{
		{"PCMA", &format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1}, unit.CodecPCMA},
		{"PCMU defaults", &format.G711{PayloadTyp: 0, MULaw: true}, unit.CodecPCMU},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr, err := newG711Track(0, tc.forma, &rec)
			if err != nil {
				t.Fatal(err)
			}
			p := rec.params[0]
			if p.Codec != tc.codec || p.SampleRate != 8000 || p.Channels != 1 {
				t.Fatalf("params = %+v", p)
			}
			enc := &rtplpcm.Encoder{PayloadType: tc.forma.PayloadTyp, BitDepth: 8, ChannelCount: 1}
			if err := enc.Init(); err != nil {
				t.Fatal(err)
			}
			samples := bytes.Repeat([]byte{0xd5}, 160)
			pkts, err := enc.Encode(samples)
			if err != nil {
				t.Fatal(err)
			}
			tr.handle(pkts[0], 8000)
			if len(rec.units) != 1 || rec.units[0].PTS != time.Second || !bytes.Equal(rec.units[0].Data[0], samples) {
				t.Fatalf("units = %+v", rec.units)
			}
		})
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		rate int
		want time.Duration
	}{
		{90000, 90000, time.Second},
		{3600, 90000, 40 * time.Millisecond},
		{1024, 44100, 23219954 * time.Nanosecond},
		{1 << 40, 90000, 12216795864177777 * time.Nanosecond}, // ~141 days, no overflow
	} {
		if got := ticks(tc.v, tc.rate); got != tc.want {
			t.Errorf("ticks(%d, %d) = %v, want %v", tc.v, tc.rate, got, tc.want)
		}
	}
}
