package record

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// testLogger logs to the test at debug level when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
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

// feeder publishes clips into a stream as fast as it is asked to, with
// timestamps as a camera would give them: video DTS = i/fps, audio DTS =
// j*samples/rate, and unit wall-clock times = base + DTS (+ skew, which a
// test raises to fake an outage).
type feeder struct {
	t     testing.TB
	pub   *stream.Publisher
	video *testsrc.VideoClip
	audio *testsrc.AudioClip
	base  time.Time
	skew  time.Duration
	vi    int // next video frame
	ai    int // next audio frame
	vBase int // frame index where the current video clip started
}

func newFeeder(t testing.TB, s *stream.Stream, video *testsrc.VideoClip, audio *testsrc.AudioClip, base time.Time) *feeder {
	f := &feeder{t: t, pub: s.NewPublisher(), video: video, audio: audio, base: base}
	if video != nil {
		f.pub.SetTrack(0, video.Params())
	}
	if audio != nil {
		f.pub.SetTrack(1, audio.Params())
	}
	return f
}

func (f *feeder) vDTS(i int) time.Duration {
	return time.Duration(i) * time.Second / time.Duration(f.video.FPS)
}

func (f *feeder) aDTS(i int) time.Duration {
	return time.Duration(i*f.audio.SamplesPerFrame) * time.Second / time.Duration(f.audio.SampleRate)
}

// now returns the media time of the next unit.
func (f *feeder) now() time.Duration {
	n := time.Duration(1 << 62)
	if f.video != nil {
		n = f.vDTS(f.vi)
	}
	if f.audio != nil {
		n = min(n, f.aDTS(f.ai))
	}
	return n
}

// feed publishes units up to media time `until`, interleaved by DTS.
func (f *feeder) feed(until time.Duration) {
	for {
		vd, ad := time.Duration(1<<62), time.Duration(1<<62)
		if f.video != nil {
			vd = f.vDTS(f.vi)
		}
		if f.audio != nil {
			ad = f.aDTS(f.ai)
		}
		next := min(vd, ad)
		if next >= until {
			return
		}
		at := f.base.Add(next + f.skew)
		if vd <= ad {
			fr := f.video.Frames[(f.vi-f.vBase)%len(f.video.Frames)]
			f.pub.Write(&unit.Unit{Track: 0, DTS: vd, PTS: vd, Time: at, Key: fr.Key, Data: fr.NALUs})
			f.vi++
		} else {
			fr := f.audio.Frames[f.ai%len(f.audio.Frames)]
			f.pub.Write(&unit.Unit{Track: 1, DTS: ad, PTS: ad, Time: at, Key: true, Data: [][]byte{fr}})
			f.ai++
		}
	}
}

// switchVideo changes the video clip (and its parameters) at the next frame.
func (f *feeder) switchVideo(c *testsrc.VideoClip) {
	f.video, f.vBase = c, f.vi
	f.pub.SetTrack(0, c.Params())
}

// collector gathers the segments a recorder reports.
type collector struct {
	mu   sync.Mutex
	segs []Segment
}

func (c *collector) add(s Segment) {
	c.mu.Lock()
	c.segs = append(c.segs, s)
	c.mu.Unlock()
}

func (c *collector) list() []Segment {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.segs)
}

// startRecorder records s into dir with 2 s segments.
func startRecorder(t testing.TB, s *stream.Stream, dir string, mod func(*Recorder)) (*Recorder, *collector) {
	t.Helper()
	c := &collector{}
	r := &Recorder{
		Stream:          s,
		Dir:             dir,
		SegmentDuration: 2 * time.Second,
		Location:        time.UTC,
		OnSegment:       c.add,
		Logger:          testLogger(t),
	}
	if mod != nil {
		mod(r)
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, c
}

// newTestStream returns a stream whose ring is big enough that a recorder
// never falls behind a feeder that runs faster than real time.
func newTestStream(name string) *stream.Stream {
	return stream.New(name, 1<<15, nil)
}

// waitIdle waits until the recorder has read everything written so far. The
// feeder is faster than real time, so tests sync before they close.
func finish(t testing.TB, s *stream.Stream, r *Recorder) {
	t.Helper()
	s.Close()
	select {
	case <-r.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("recorder did not stop")
	}
}

// segmentFiles lists the files under dir with the given suffix.
func segmentFiles(t testing.TB, dir, suffix string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, suffix) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// parsedFile is a segment file read with mediacommon's fMP4 reader.
type parsedFile struct {
	init  fmp4.Init
	parts fmp4.Parts
}

// parseFile reads a segment with mediacommon's readers: the init, then all
// fragments (the index box at the end is a 'free' box, which they skip).
func parseFile(t testing.TB, path string) *parsedFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := &segIndex{size: int64(len(b))}
	if err := x.readHead(bytes.NewReader(b)); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p := &parsedFile{}
	if err := p.init.Unmarshal(bytes.NewReader(x.init)); err != nil {
		t.Fatalf("%s: init: %v", path, err)
	}
	if err := p.parts.Unmarshal(b[len(x.init):]); err != nil {
		t.Fatalf("%s: fragments: %v", path, err)
	}
	return p
}

// trackDuration sums the sample durations of a track, in seconds.
func (p *parsedFile) trackDuration(id int) time.Duration {
	var ts uint32
	for _, t := range p.init.Tracks {
		if t.ID == id {
			ts = t.TimeScale
		}
	}
	var d uint64
	for _, part := range p.parts {
		for _, tr := range part.Tracks {
			if tr.ID != id {
				continue
			}
			for _, s := range tr.Samples {
				d += uint64(s.Duration)
			}
		}
	}
	return ticksToDuration(int64(d), ts)
}

// firstSample returns the first sample of a track.
func (p *parsedFile) firstSample(id int) *fmp4.Sample {
	for _, part := range p.parts {
		for _, tr := range part.Tracks {
			if tr.ID == id && len(tr.Samples) > 0 {
				return tr.Samples[0]
			}
		}
	}
	return nil
}
