package fmp4

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

var pcmaParams = &unit.Params{Codec: unit.CodecPCMA, SampleRate: 8000, Channels: 1}

func parseInit(t *testing.T, b []byte) fmp4.Init {
	t.Helper()
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("init: %v", err)
	}
	return init
}

func parseParts(t *testing.T, b []byte) fmp4.Parts {
	t.Helper()
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatalf("fragment: %v", err)
	}
	return parts
}

// partTrack returns the track with the given ID in p, or nil.
func partTrack(p *fmp4.Part, id int) *fmp4.PartTrack {
	for _, tr := range p.Tracks {
		if tr.ID == id {
			return tr
		}
	}
	return nil
}

func TestMuxerTracks(t *testing.T) {
	h264Clip := loadVideo(t, testsrc.ClipH264)
	h265Clip := loadVideo(t, testsrc.ClipH265)
	aac := loadAudio(t, testsrc.ClipAAC).Params()
	avc1 := "avc1." + hex.EncodeToString(h264Clip.SPS[1:4])

	cases := []struct {
		name    string
		tracks  []*unit.Params
		mime    string
		codecs  []string // mp4 codec types, in track ID order
		wantErr error
	}{
		{"h264+aac", []*unit.Params{h264Clip.Params(), aac},
			`video/mp4; codecs="` + avc1 + `,mp4a.40.2"`, []string{"h264", "aac"}, nil},
		{"aac first", []*unit.Params{aac, h264Clip.Params()},
			`video/mp4; codecs="` + avc1 + `,mp4a.40.2"`, []string{"h264", "aac"}, nil},
		{"h265", []*unit.Params{h265Clip.Params()},
			`video/mp4; codecs="hvc1.1.6.L60.90"`, []string{"h265"}, nil},
		{"h264+g711", []*unit.Params{h264Clip.Params(), pcmaParams},
			`video/mp4; codecs="` + avc1 + `"`, []string{"h264"}, nil},
		{"aac only", []*unit.Params{nil, aac},
			`audio/mp4; codecs="mp4a.40.2"`, []string{"aac"}, nil},
		{"two videos", []*unit.Params{h264Clip.Params(), h265Clip.Params()},
			`video/mp4; codecs="` + avc1 + `"`, []string{"h264"}, nil},
		{"g711 only", []*unit.Params{pcmaParams}, "", nil, ErrNoTracks},
		{"incomplete h264", []*unit.Params{{Codec: unit.CodecH264}}, "", nil, ErrNoTracks},
		{"bad aac config", []*unit.Params{{Codec: unit.CodecAAC, AudioConfig: []byte{0xff}}}, "", nil, ErrNoTracks},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMuxer(tc.tracks)
			b, err := m.Init()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Init error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.MIME(); got != tc.mime {
				t.Errorf("MIME = %s, want %s", got, tc.mime)
			}
			init := parseInit(t, b)
			if len(init.Tracks) != len(tc.codecs) {
				t.Fatalf("%d tracks, want %d", len(init.Tracks), len(tc.codecs))
			}
			for i, tr := range init.Tracks {
				if tr.ID != i+1 {
					t.Errorf("track %d: ID %d", i, tr.ID)
				}
				var kind string
				var scale uint32
				switch c := tr.Codec.(type) {
				case *mp4codecs.H264:
					kind, scale = "h264", 90000
					if !bytes.Equal(c.SPS, h264Clip.SPS) || !bytes.Equal(c.PPS, h264Clip.PPS) {
						t.Errorf("H.264 SPS/PPS differ from the clip's")
					}
				case *mp4codecs.H265:
					kind, scale = "h265", 90000
					if !bytes.Equal(c.SPS, h265Clip.SPS) || !bytes.Equal(c.VPS, h265Clip.VPS) {
						t.Errorf("H.265 VPS/SPS differ from the clip's")
					}
				case *mp4codecs.MPEG4Audio:
					kind, scale = "aac", 44100
					if c.Config.SampleRate != 44100 {
						t.Errorf("AAC sample rate %d", c.Config.SampleRate)
					}
				}
				if kind != tc.codecs[i] || tr.TimeScale != scale {
					t.Errorf("track %d: %s at %d Hz, want %s at %d Hz", i, kind, tr.TimeScale, tc.codecs[i], scale)
				}
			}
		})
	}
}

func TestCodecString(t *testing.T) {
	h264Clip := loadVideo(t, testsrc.ClipH264)
	cases := []struct {
		name string
		p    *unit.Params
		want string
	}{
		{"h264", h264Clip.Params(), "avc1." + hex.EncodeToString(h264Clip.SPS[1:4])},
		{"h265 main", loadVideo(t, testsrc.ClipH265).Params(), "hvc1.1.6.L60.90"},
		{"aac lc", loadAudio(t, testsrc.ClipAAC).Params(), "mp4a.40.2"},
		{"g711", pcmaParams, ""},
		{"nil", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CodecString(tc.p); got != tc.want {
				t.Errorf("CodecString = %q, want %q", got, tc.want)
			}
		})
	}
}

// muxerFixture is a muxer over the H.264 and AAC clips.
type muxerFixture struct {
	m      *Muxer
	video  *testsrc.VideoClip
	vp, ap *unit.Params
	audio  *testsrc.AudioClip
}

func newMuxerFixture(t *testing.T) *muxerFixture {
	f := &muxerFixture{video: loadVideo(t, testsrc.ClipH264), audio: loadAudio(t, testsrc.ClipAAC)}
	f.vp, f.ap = f.video.Params(), f.audio.Params()
	f.m = NewMuxer([]*unit.Params{f.vp, f.ap})
	return f
}

func (f *muxerFixture) videoUnit(i int) *unit.Unit {
	fr := f.video.Frames[i%len(f.video.Frames)]
	d := time.Duration(i) * 40 * time.Millisecond
	return &unit.Unit{Track: 0, Params: f.vp, DTS: d, PTS: d, Key: fr.Key, Data: fr.NALUs}
}

func (f *muxerFixture) audioUnit(i int) *unit.Unit {
	d := time.Duration(i) * 1024 * time.Second / 44100
	return &unit.Unit{Track: 1, Params: f.ap, DTS: d, PTS: d, Key: true, Data: [][]byte{f.audio.Frames[i%len(f.audio.Frames)]}}
}

func mustWrite(t *testing.T, m *Muxer, u *unit.Unit) []byte {
	t.Helper()
	b, err := m.Write(u)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b
}

func TestMuxerSamplesOneLate(t *testing.T) {
	f := newMuxerFixture(t)
	for _, u := range []*unit.Unit{f.videoUnit(0), f.audioUnit(0), f.audioUnit(1)} {
		if b := mustWrite(t, f.m, u); b != nil {
			t.Fatalf("fragment before the second video frame")
		}
	}
	b := mustWrite(t, f.m, f.videoUnit(1))
	if b == nil {
		t.Fatal("no fragment at the second video frame")
	}
	parts := parseParts(t, b)
	if len(parts) != 1 || parts[0].SequenceNumber != 1 {
		t.Fatalf("parts %d, sequence %d", len(parts), parts[0].SequenceNumber)
	}
	v, a := partTrack(parts[0], 1), partTrack(parts[0], 2)
	if v == nil || len(v.Samples) != 1 || v.BaseTime != 0 || v.Samples[0].Duration != 3600 || v.Samples[0].IsNonSyncSample {
		t.Fatalf("video track: %+v", v)
	}
	au, err := (*fmp4.Sample).GetH264(v.Samples[0])
	if err != nil || !h264.IsRandomAccess(au) {
		t.Fatalf("first video sample is not an IDR access unit (%v)", err)
	}
	if a == nil || len(a.Samples) != 1 || a.BaseTime != 0 || a.Samples[0].Duration != 1024 ||
		!bytes.Equal(a.Samples[0].Payload, f.audio.Frames[0]) {
		t.Fatalf("audio track: %+v", a)
	}

	b, err = f.m.Flush()
	if err != nil || b == nil {
		t.Fatalf("Flush: %v, %v", b, err)
	}
	parts = parseParts(t, b)
	v, a = partTrack(parts[0], 1), partTrack(parts[0], 2)
	if parts[0].SequenceNumber != 2 || v.BaseTime != 3600 || v.Samples[0].Duration != 3600 || !v.Samples[0].IsNonSyncSample {
		t.Errorf("flushed video: seq %d %+v", parts[0].SequenceNumber, v)
	}
	if a.BaseTime != 1024 || a.Samples[0].Duration != 1024 {
		t.Errorf("flushed audio: %+v", a)
	}
	if b, _ := f.m.Flush(); b != nil {
		t.Errorf("second Flush returned a fragment")
	}
}

func TestMuxerParamsChange(t *testing.T) {
	f := newMuxerFixture(t)
	mustWrite(t, f.m, f.videoUnit(0))

	// Same parameters in a new value (a publisher restart): no new init.
	same := *f.vp
	u := f.videoUnit(1)
	u.Params = &same
	mustWrite(t, f.m, u)

	h265Clip := loadVideo(t, testsrc.ClipH265)
	hp := h265Clip.Params()
	u = &unit.Unit{Track: 0, Params: hp, DTS: 80 * time.Millisecond, PTS: 80 * time.Millisecond, Key: true, Data: h265Clip.Frames[0].NALUs}
	if _, err := f.m.Write(u); !errors.Is(err, ErrParamsChanged) {
		t.Fatalf("Write with new codec: %v, want ErrParamsChanged", err)
	}
	last, err := f.m.Flush()
	if err != nil || last == nil {
		t.Fatalf("Flush: %v", err)
	}
	f.m.ResetWith(u)
	b, err := f.m.Init()
	if err != nil {
		t.Fatal(err)
	}
	init := parseInit(t, b)
	if _, ok := init.Tracks[0].Codec.(*mp4codecs.H265); !ok || len(init.Tracks) != 2 {
		t.Fatalf("init after reset: %d tracks, first %T", len(init.Tracks), init.Tracks[0].Codec)
	}
	mustWrite(t, f.m, u)
	u2 := &unit.Unit{Track: 0, Params: hp, DTS: 120 * time.Millisecond, PTS: 120 * time.Millisecond, Data: h265Clip.Frames[1].NALUs}
	b = mustWrite(t, f.m, u2)
	parts := parseParts(t, b)
	if parts[0].SequenceNumber != 3 {
		t.Errorf("sequence number %d after reset, want 3", parts[0].SequenceNumber)
	}
	if v := partTrack(parts[0], 1); v.BaseTime != 80*90 {
		t.Errorf("base time %d after reset, want %d", v.BaseTime, 80*90)
	}
}

func TestMuxerLateTrack(t *testing.T) {
	f := newMuxerFixture(t)
	m := NewMuxer([]*unit.Params{f.vp})
	mustWrite(t, m, f.videoUnit(0))

	g711 := &unit.Unit{Track: 1, Params: pcmaParams, Key: true, Data: [][]byte{make([]byte, 160)}}
	if b, err := m.Write(g711); b != nil || err != nil {
		t.Fatalf("G.711 unit: %v, %v; want it ignored", b, err)
	}
	if _, err := m.Write(f.audioUnit(0)); !errors.Is(err, ErrParamsChanged) {
		t.Fatalf("AAC on an undeclared track: %v, want ErrParamsChanged", err)
	}
	m.ResetWith(f.audioUnit(0))
	if got := len(m.Carried()); got != 2 {
		t.Fatalf("%d tracks carried after reset, want 2", got)
	}
}

func TestMuxerAudioOnly(t *testing.T) {
	f := newMuxerFixture(t)
	m := NewMuxer([]*unit.Params{nil, f.ap})
	if b := mustWrite(t, m, f.audioUnit(0)); b != nil {
		t.Fatal("fragment before the second audio frame")
	}
	for i := 1; i < 5; i++ {
		b := mustWrite(t, m, f.audioUnit(i))
		if b == nil {
			t.Fatalf("no fragment at audio frame %d", i)
		}
		a := partTrack(parseParts(t, b)[0], 1)
		if a.BaseTime != uint64(i-1)*1024 || len(a.Samples) != 1 {
			t.Fatalf("frame %d: %+v", i, a)
		}
	}
}

func TestMuxerAudioWithoutVideo(t *testing.T) {
	f := newMuxerFixture(t)
	var n int
	for i := 0; i < 100; i++ {
		if b := mustWrite(t, f.m, f.audioUnit(i)); b != nil {
			n++
			a := partTrack(parseParts(t, b)[0], 2)
			if d := time.Duration(len(a.Samples)) * 1024 * time.Second / 44100; d < maxAudioAhead || d > maxAudioAhead+30*time.Millisecond {
				t.Errorf("audio-only fragment of %v", d)
			}
		}
	}
	if n < 3 {
		t.Errorf("%d fragments from 2.3 s of audio without video", n)
	}
}

func BenchmarkMuxerWrite(b *testing.B) {
	video, _ := testsrc.LoadVideo(testsrc.ClipH264)
	vp := video.Params()
	m := NewMuxer([]*unit.Params{vp})
	i := 0
	for b.Loop() {
		fr := video.Frames[i%len(video.Frames)]
		d := time.Duration(i) * 40 * time.Millisecond
		if _, err := m.Write(&unit.Unit{Params: vp, DTS: d, PTS: d, Key: fr.Key, Data: fr.NALUs}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func TestMuxerCutAtKeyframe(t *testing.T) {
	f := newMuxerFixture(t)
	key := 0
	for i := 1; i < len(f.video.Frames); i++ {
		if f.video.Frames[i].Key {
			key = i
			break
		}
	}
	if key == 0 {
		t.Fatal("clip has a single keyframe")
	}
	for i := 0; i < key; i++ {
		mustWrite(t, f.m, f.videoUnit(i))
	}
	// The fragment returned for the keyframe ends right before it.
	v := partTrack(parseParts(t, mustWrite(t, f.m, f.videoUnit(key)))[0], 1)
	if end := v.BaseTime + uint64(len(v.Samples))*3600; end != uint64(key)*3600 {
		t.Fatalf("fragment ends at %d, want %d", end, key*3600)
	}
	// The next one starts with it.
	v = partTrack(parseParts(t, mustWrite(t, f.m, f.videoUnit(key+1)))[0], 1)
	if v.BaseTime != uint64(key)*3600 || v.Samples[0].IsNonSyncSample {
		t.Fatalf("fragment after the cut: %+v", v)
	}
}
