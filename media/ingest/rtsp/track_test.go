package rtsp

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtplpcm"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"

	"github.com/nvr/nvr/media/ingest/internal/au"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// recorder is an au.Sink that keeps everything, for tests without a
// network.
type recorder struct {
	params   []*unit.Params // every SetTrack call, in order
	units    []*unit.Unit
	problems []string // "what: error"
}

func (r *recorder) SetTrack(_ int, p *unit.Params) { r.params = append(r.params, p) }
func (r *recorder) WriteUnit(u *unit.Unit)         { r.units = append(r.units, u) }
func (r *recorder) Problem(what string, err error) {
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

// newTestTrack is newTrack for a format it must support.
func newTestTrack(t testing.TB, index int, forma format.Format, out au.Sink) track {
	t.Helper()
	tr, err := newTrack(index, forma, out)
	if err != nil || tr == nil {
		t.Fatalf("newTrack(%s) = %v, %v", forma.Codec(), tr, err)
	}
	return tr
}

// nalEncoder is gortsplib's H.264 or H.265 RTP encoder.
type nalEncoder interface {
	Encode(au [][]byte) ([]*rtp.Packet, error)
}

func h264Encoder(t testing.TB) nalEncoder {
	t.Helper()
	enc := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	return enc
}

func h265Encoder(t testing.TB) nalEncoder {
	t.Helper()
	enc := &rtph265.Encoder{PayloadType: 96}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	return enc
}

// sendAU packetizes an access unit with enc and hands the packets to tr,
// all presented at pts, as the session does.
func sendAU(t testing.TB, tr track, enc nalEncoder, nalus [][]byte, pts int64) {
	t.Helper()
	pkts, err := enc.Encode(nalus)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkt := range pkts {
		tr.handle(pkt, pts)
	}
}

// frameTicks is one frame of the 25 fps clips in 90 kHz ticks.
const frameTicks = au.VideoClockRate / 25

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

func h265Type(nalu []byte) h265.NALUType {
	return h265.NALUType((nalu[0] >> 1) & 0x3f)
}

func h265IsParam(nalu []byte) bool {
	switch h265Type(nalu) {
	case h265.NALUType_VPS_NUT, h265.NALUType_SPS_NUT, h265.NALUType_PPS_NUT:
		return true
	}
	return false
}

// TestVideoTrackParamsFromSDP: the SDP's parameter sets declare the track
// before any packet; delimiters are dropped and keyframes start with the
// parameter sets; equal parameter sets in band change nothing.
func TestVideoTrackParamsFromSDP(t *testing.T) {
	h264Clip := loadVideo(t, testsrc.ClipH264)
	h265Clip := loadVideo(t, testsrc.ClipH265)
	for _, tc := range []struct {
		clip    *testsrc.VideoClip
		forma   format.Format
		enc     nalEncoder
		codec   unit.Codec
		params  [][]byte // the parameter sets a keyframe starts with
		isParam func([]byte) bool
		aud     []byte
		isAUD   func([]byte) bool
	}{
		{
			h264Clip, &format.H264{PayloadTyp: 96, SPS: h264Clip.SPS, PPS: h264Clip.PPS, PacketizationMode: 1},
			h264Encoder(t), unit.CodecH264, [][]byte{h264Clip.SPS, h264Clip.PPS}, h264IsParam,
			[]byte{byte(h264.NALUTypeAccessUnitDelimiter), 0xf0},
			func(n []byte) bool { return h264.NALUType(n[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter },
		},
		{
			h265Clip, &format.H265{PayloadTyp: 96, VPS: h265Clip.VPS, SPS: h265Clip.SPS, PPS: h265Clip.PPS},
			h265Encoder(t), unit.CodecH265, [][]byte{h265Clip.VPS, h265Clip.SPS, h265Clip.PPS}, h265IsParam,
			[]byte{byte(h265.NALUType_AUD_NUT) << 1, 1, 0x50},
			func(n []byte) bool { return h265Type(n) == h265.NALUType_AUD_NUT },
		},
	} {
		t.Run(tc.codec.String(), func(t *testing.T) {
			var rec recorder
			tr := newTestTrack(t, 0, tc.forma, &rec)
			if len(rec.params) != 1 {
				t.Fatalf("track declared %d times before any packet, want 1", len(rec.params))
			}
			if p := rec.params[0]; p.Codec != tc.codec || p.Width != 320 || p.Height != 240 || !p.Ready() {
				t.Fatalf("params = %+v, want a ready %v 320x240", p, tc.codec)
			}

			for i, f := range tc.clip.Frames {
				sendAU(t, tr, tc.enc, append([][]byte{tc.aud}, f.NALUs...), int64(1000+i*frameTicks))
			}
			if len(rec.units) != len(tc.clip.Frames) {
				t.Fatalf("%d units, want %d", len(rec.units), len(tc.clip.Frames))
			}
			checkVideoUnits(t, rec.units, tc.isParam, len(tc.params))
			for i, u := range rec.units {
				for _, nalu := range u.Data {
					if tc.isAUD(nalu) {
						t.Fatalf("unit %d still holds an access unit delimiter", i)
					}
				}
				if u.Key != tc.clip.Frames[i].Key {
					t.Errorf("unit %d: Key = %v, want %v", i, u.Key, tc.clip.Frames[i].Key)
				}
			}
			for i, ps := range tc.params {
				if !bytes.Equal(rec.units[0].Data[i], ps) {
					t.Errorf("keyframe NAL unit %d is not the SDP's parameter set", i)
				}
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
		})
	}
}

func TestH264TrackParamsInBand(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH264)
	hd := loadVideo(t, testsrc.ClipH264HD)
	var rec recorder
	tr := newTestTrack(t, 0, &format.H264{PayloadTyp: 96, PacketizationMode: 1}, &rec)
	if len(rec.params) != 0 {
		t.Fatal("track without parameter sets was declared")
	}
	enc := h264Encoder(t)

	// A picture before any parameter set is dropped, the track stays undeclared.
	sendAU(t, tr, enc, clip.Frames[1].NALUs, 0)
	if len(rec.params) != 0 || len(rec.units) != 0 {
		t.Fatalf("before parameter sets: %d declarations, %d units", len(rec.params), len(rec.units))
	}

	pts := int64(frameTicks)
	for _, f := range clip.Frames[:30] {
		sendAU(t, tr, enc, f.NALUs, pts)
		pts += frameTicks
	}
	if len(rec.params) != 1 || rec.params[0].Width != 320 {
		t.Fatalf("after in-band parameter sets: params %v", rec.params)
	}
	n := len(rec.units)

	// The camera switches to 720p: new parameter sets in band, a new Params.
	for _, f := range hd.Frames[:10] {
		sendAU(t, tr, enc, f.NALUs, pts)
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

func TestH264TrackJoinMidGOP(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH264)
	var rec recorder
	tr := newTestTrack(t, 0, &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}, &rec)
	enc := h264Encoder(t)
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

// TestH264TrackDTSRestart: after the DTS extractor fails, units are dropped
// until the next IDR, from which the extractor starts again.
func TestH264TrackDTSRestart(t *testing.T) {
	clip := loadVideo(t, testsrc.ClipH264)
	var rec recorder
	tr := newTestTrack(t, 0, &format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}, &rec)
	enc := h264Encoder(t)
	pts := int64(10 * frameTicks)
	for i, f := range clip.Frames[:40] {
		if i == 5 {
			sendAU(t, tr, enc, f.NALUs, 0) // a timestamp that steps back
			continue
		}
		sendAU(t, tr, enc, f.NALUs, pts+int64(i*frameTicks))
	}
	if len(rec.problems) != 1 || rec.problems[0][:len("H.264 DTS: ")] != "H.264 DTS: " {
		t.Fatalf("problems %q, want one H.264 DTS problem", rec.problems)
	}
	if want := 5 + 40 - 25; len(rec.units) != want {
		t.Fatalf("%d units, want %d: the 5 before the error, then from the IDR at 25", len(rec.units), want)
	}
	if u := rec.units[5]; !u.Key || u.PTS != au.Ticks(pts+25*frameTicks, au.VideoClockRate) {
		t.Errorf("unit 5: key %v PTS %v, want the IDR of frame 25", u.Key, u.PTS)
	}
	checkVideoUnits(t, rec.units, h264IsParam, 2)
}

func TestAACTrackSeveralAUsPerPacket(t *testing.T) {
	clip := loadAudio(t, testsrc.ClipAAC)
	forma := &format.MPEG4Audio{PayloadTyp: 97, Config: clip.Config, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
	var rec recorder
	tr := newTestTrack(t, 1, forma, &rec)
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
	const pts = 44100 + 1 // 1 s and a sample: the frames add up in ticks
	tr.handle(pkts[0], pts)
	if len(rec.units) != 4 {
		t.Fatalf("%d units, want 4", len(rec.units))
	}
	for i, u := range rec.units {
		want := au.Ticks(pts+int64(i)*1024, clip.SampleRate)
		if u.PTS != want || u.DTS != want || !u.Key || u.Track != 1 {
			t.Errorf("unit %d: PTS %v DTS %v Key %v Track %d, want PTS=DTS=%v", i, u.PTS, u.DTS, u.Key, u.Track, want)
		}
		if !bytes.Equal(u.Data[0], clip.Frames[i]) {
			t.Errorf("unit %d: payload differs", i)
		}
	}
}

func TestAACTrackWithoutConfig(t *testing.T) {
	var rec recorder
	if _, err := newTrack(1, &format.MPEG4Audio{PayloadTyp: 97, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}, &rec); err == nil {
		t.Fatal("AAC without AudioSpecificConfig accepted")
	}
	if len(rec.params) != 0 {
		t.Fatalf("track declared: %v", rec.params)
	}
}

func TestG711Track(t *testing.T) {
	for _, tc := range []struct {
		name     string
		forma    *format.G711
		codec    unit.Codec
		rate     int
		channels int
	}{
		{"PCMA", &format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1}, unit.CodecPCMA, 8000, 1},
		{"PCMU defaults", &format.G711{PayloadTyp: 0, MULaw: true}, unit.CodecPCMU, 8000, 1},
		{"PCMA 16 kHz stereo", &format.G711{PayloadTyp: 96, SampleRate: 16000, ChannelCount: 2}, unit.CodecPCMA, 16000, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := newTestTrack(t, 0, tc.forma, &rec)
			if len(rec.params) != 1 {
				t.Fatalf("%d declarations, want 1", len(rec.params))
			}
			p := rec.params[0]
			if p.Codec != tc.codec || p.SampleRate != tc.rate || p.Channels != tc.channels {
				t.Fatalf("params = %+v", p)
			}
			enc := &rtplpcm.Encoder{PayloadType: tc.forma.PayloadTyp, BitDepth: 8, ChannelCount: tc.channels}
			if err := enc.Init(); err != nil {
				t.Fatal(err)
			}
			samples := bytes.Repeat([]byte{0xd5}, 160*tc.channels)
			pkts, err := enc.Encode(samples)
			if err != nil {
				t.Fatal(err)
			}
			tr.handle(pkts[0], int64(tc.rate)) // 1 s in ticks of the sample rate
			if len(rec.units) != 1 || rec.units[0].PTS != time.Second || !bytes.Equal(rec.units[0].Data[0], samples) {
				t.Fatalf("units = %+v", rec.units)
			}
			if len(rec.problems) != 0 {
				t.Errorf("problems: %v", rec.problems)
			}
		})
	}
}
