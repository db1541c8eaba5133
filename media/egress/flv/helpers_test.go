package flv

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	flvcodec "github.com/nvr/nvr/media/codec/flv"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

const waitTimeout = 10 * time.Second

// clip is a video and an optional audio clip as units, interleaved by DTS.
type clip struct {
	vp, ap *unit.Params
	units  []clipUnit
}

// clipUnit is what a unit is made of. A unit written to a stream belongs to
// it (it caches derived bytes), so each publish makes new units.
type clipUnit struct {
	Track int
	DTS   time.Duration
	Key   bool
	Data  [][]byte
}

func loadClip(tb testing.TB, video, audio string) *clip {
	tb.Helper()
	vc, err := testsrc.LoadVideo(video)
	if err != nil {
		tb.Fatal(err)
	}
	c := &clip{vp: &unit.Params{Codec: unit.CodecH264, SPS: vc.SPS, PPS: vc.PPS, Width: vc.Width, Height: vc.Height, SampleRate: 90000}}
	if vc.Codec == testsrc.CodecH265 {
		c.vp.Codec, c.vp.VPS = unit.CodecH265, vc.VPS
	}
	for i, f := range vc.Frames {
		dts := time.Duration(i) * time.Second / time.Duration(vc.FPS)
		c.units = append(c.units, clipUnit{Track: 0, DTS: dts, Key: f.Key, Data: f.NALUs})
	}
	if audio != "" {
		ac, err := testsrc.LoadAudio(audio)
		if err != nil {
			tb.Fatal(err)
		}
		c.ap = &unit.Params{Codec: unit.CodecPCMA, SampleRate: ac.SampleRate, Channels: ac.Channels}
		if ac.Codec == testsrc.CodecAAC {
			c.ap.Codec = unit.CodecAAC
			if c.ap.AudioConfig, err = ac.Config.Marshal(); err != nil {
				tb.Fatal(err)
			}
		}
		for i, f := range ac.Frames {
			dts := time.Duration(i*ac.SamplesPerFrame) * time.Second / time.Duration(ac.SampleRate)
			c.units = append(c.units, clipUnit{Track: 1, DTS: dts, Key: true, Data: [][]byte{f}})
		}
	}
	slices.SortStableFunc(c.units, func(a, b clipUnit) int { return int(a.DTS - b.DTS) })
	return c
}

// newPublisher declares the clip's tracks on s.
func (c *clip) newPublisher(s *stream.Stream) *stream.Publisher {
	p := s.NewPublisher()
	p.SetTrack(0, c.vp)
	if c.ap != nil {
		p.SetTrack(1, c.ap)
	}
	return p
}

// publish writes fresh copies of units [from, to) of the clip.
func (c *clip) publish(p *stream.Publisher, from, to int) {
	for i := from; i < to; i++ {
		t := &c.units[i]
		p.Write(&unit.Unit{Track: t.Track, DTS: t.DTS, PTS: t.DTS, Key: t.Key, Data: t.Data})
	}
}

// index returns the index of the first unit at or after dts on track.
func (c *clip) index(track int, dts time.Duration) int {
	for i := range c.units {
		if u := &c.units[i]; u.Track == track && u.DTS >= dts {
			return i
		}
	}
	return len(c.units)
}

// readTags reads an FLV stream to its end.
func readTags(r io.Reader) (flvcodec.Header, []*flvcodec.Tag, error) {
	fr := flvcodec.NewReader(r)
	h, err := fr.ReadHeader()
	if err != nil {
		return h, nil, err
	}
	var tags []*flvcodec.Tag
	for {
		tag, err := fr.ReadTag()
		if errors.Is(err, io.EOF) {
			return h, tags, nil
		}
		if err != nil {
			return h, tags, err
		}
		tags = append(tags, tag)
	}
}

// checkOutput checks a viewer's whole output against the clip units
// [from, len) it must carry: header, onMetaData, video sequence header,
// audio sequence header (AAC), then every unit in order, the first one a
// video keyframe, with timestamps that never go backwards.
func checkOutput(t *testing.T, c *clip, h flvcodec.Header, tags []*flvcodec.Tag, from int) {
	t.Helper()
	if !h.HasVideo || h.HasAudio != (c.ap != nil) {
		t.Fatalf("header %+v", h)
	}
	if len(tags) < 3 || tags[0].Script == nil || tags[0].Script.Name != "onMetaData" {
		t.Fatalf("no onMetaData first: %d tags", len(tags))
	}
	meta := tags[0].Script.Value.(flvcodec.ECMAArray)
	if w, _ := meta.Get("width"); w != float64(c.vp.Width) {
		t.Errorf("metadata width %v", w)
	}
	v := tags[1].Video
	if v == nil || v.FrameType != flvcodec.FrameKey ||
		!(v.CodecID == flvcodec.VideoCodecAVC && v.PacketType == flvcodec.AVCSequenceHeader ||
			v.Enhanced && v.FourCC == flvcodec.FourCCHEVC && v.PacketType == flvcodec.PacketTypeSequenceStart) {
		t.Fatalf("second tag is not a video sequence header: %+v", tags[1])
	}
	rest := tags[2:]
	if c.ap != nil && c.ap.Codec == unit.CodecAAC {
		a := rest[0].Audio
		if a == nil || a.Format != flvcodec.SoundAAC || a.PacketType != flvcodec.AACSequenceHeader || !bytes.Equal(a.Payload, c.ap.AudioConfig) {
			t.Fatalf("third tag is not the AAC sequence header: %+v", rest[0])
		}
		rest = rest[1:]
	}
	if v := rest[0].Video; v == nil || v.FrameType != flvcodec.FrameKey {
		t.Fatalf("first media tag is not a video keyframe: %+v", rest[0])
	}
	want := c.units[from:]
	if len(rest) != len(want) {
		t.Fatalf("%d media tags, want %d", len(rest), len(want))
	}
	var last uint32
	audio := 0
	for i, tag := range tags {
		if tag.Timestamp < last {
			t.Fatalf("tag %d: timestamp %d after %d", i, tag.Timestamp, last)
		}
		last = tag.Timestamp
	}
	for i, tag := range rest {
		u := &want[i]
		if tag.Timestamp != flvcodec.Timestamp(u.DTS) {
			t.Fatalf("unit %d: timestamp %d, want %d", i, tag.Timestamp, flvcodec.Timestamp(u.DTS))
		}
		switch {
		case u.Track == 0 && tag.Video != nil:
			n := 0
			for _, d := range u.Data {
				n += 4 + len(d)
			}
			if (tag.Video.FrameType == flvcodec.FrameKey) != u.Key || len(tag.Video.Payload) != n {
				t.Fatalf("unit %d: video tag %+v", i, tag.Video)
			}
		case u.Track == 1 && tag.Audio != nil:
			if !bytes.Equal(tag.Audio.Payload, u.Data[0]) {
				t.Fatalf("unit %d: audio payload differs", i)
			}
			audio++
		default:
			t.Fatalf("unit %d on track %d: tag %+v", i, u.Track, tag)
		}
	}
	if c.ap != nil && audio == 0 {
		t.Fatal("no audio")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkGoroutines fails the test if goroutines of this package, of the
// stream, of gorilla/websocket or of an HTTP connection are still running
// once the test and its cleanups are done. Register it first so that its
// cleanup runs last.
func checkGoroutines(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var leaked []string
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			for g := range strings.SplitSeq(string(buf), "\n\n") {
				if strings.Contains(g, "flv.checkGoroutines") || strings.Contains(g, "testing.tRunner(") {
					continue // this check, and the goroutines of running tests
				}
				if strings.Contains(g, "media/egress/flv.") || strings.Contains(g, "media/stream.") ||
					strings.Contains(g, "gorilla/websocket") || strings.Contains(g, "net/http.(*conn).serve") {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// testLogger logs to the test at debug level.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
