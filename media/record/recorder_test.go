package record

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/nvr/nvr/media/testsrc"
)

// base is the wall-clock time test recordings start at.
var base = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// checkSegments verifies what every test expects of a recording: each
// reported segment exists under its name, parses with mediacommon, starts
// with a keyframe, lasts End-Start, and no part file is left.
func checkSegments(t *testing.T, dir string, segs []Segment) map[string]*parsedFile {
	t.Helper()
	if parts := segmentFiles(t, dir, partSuffix); len(parts) != 0 {
		t.Errorf("part files left: %v", parts)
	}
	files := segmentFiles(t, dir, segmentSuffix)
	if len(files) != len(segs) {
		t.Errorf("%d files for %d reported segments: %v", len(files), len(segs), files)
	}
	out := map[string]*parsedFile{}
	for _, s := range segs {
		st, err := os.Stat(s.Path)
		if err != nil {
			t.Errorf("segment %s: %v", s.Path, err)
			continue
		}
		if st.Size() != s.Bytes {
			t.Errorf("%s: %d bytes, reported %d", s.Path, st.Size(), s.Bytes)
		}
		want := filepath.Join(dir, "cam1", s.Start.UTC().Format("2006-01-02"), strconv.FormatInt(s.Start.UnixMilli(), 10)+".mp4")
		if s.Path != want {
			t.Errorf("path %s, want %s", s.Path, want)
		}
		p := parseFile(t, s.Path)
		out[s.Path] = p
		if len(p.parts) != s.Fragments {
			t.Errorf("%s: %d fragments, reported %d", s.Path, len(p.parts), s.Fragments)
		}
		if p.init.Tracks[0].Codec.IsVideo() {
			if fs := p.firstSample(1); fs == nil || fs.IsNonSyncSample {
				t.Errorf("%s does not start with a keyframe", s.Path)
			}
		}
		if d := p.trackDuration(1); absDuration(d-s.Duration()) > time.Millisecond {
			t.Errorf("%s: track 1 lasts %v, segment %v", s.Path, d, s.Duration())
		}
		// The index at the end must say what the fragments say.
		x, err := openIndex(s.Path)
		if err != nil {
			t.Errorf("%s: %v", s.Path, err)
			continue
		}
		if got := x.segment(); got.End != s.End || got.Start != s.Start || got.Codecs != s.Codecs || got.Fragments != s.Fragments {
			t.Errorf("index says %+v, recorder %+v", got, s)
		}
	}
	return out
}

func TestRecorderSegments(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, nil)
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
	f.feed(9 * time.Second)
	finish(t, s, r)

	segs := c.list()
	if len(segs) < 4 {
		t.Fatalf("%d segments, want at least 4: %+v", len(segs), segs)
	}
	checkSegments(t, dir, segs)
	for i, sg := range segs {
		if sg.Codecs != "avc1.64000d,mp4a.40.2" && !strings.HasPrefix(sg.Codecs, "avc1.") {
			t.Errorf("codecs %q", sg.Codecs)
		}
		if !strings.Contains(sg.Codecs, "mp4a.40.2") {
			t.Errorf("segment %d codecs %q lack AAC", i, sg.Codecs)
		}
		if i > 0 && !sg.Start.Equal(segs[i-1].End) {
			t.Errorf("segment %d starts at %v, previous ended at %v", i, sg.Start, segs[i-1].End)
		}
		// 1 s keyframe interval, 2 s segments: middle segments last 2 s; the
		// first ends on the stream's phase.
		if i > 0 && i < len(segs)-1 && sg.Duration() != 2*time.Second {
			t.Errorf("segment %d lasts %v", i, sg.Duration())
		}
		// Cuts land on the first keyframe (one per second) after the
		// stream's phase.
		if off := (sg.Start.UnixMilli() - phase("cam1", 2*time.Second).Milliseconds()) % 2000; i > 0 && (off < 0 || off >= 1000) {
			t.Errorf("segment %d starts at %v, not within a GOP after the stream's phase %v", i, sg.Start, phase("cam1", 2*time.Second))
		}
	}
	if !segs[0].Start.Equal(base) {
		t.Errorf("first segment starts %v, want %v", segs[0].Start, base)
	}
	if last := segs[len(segs)-1]; last.End.Sub(base) < 8900*time.Millisecond {
		t.Errorf("recording ends at %v, want about %v", last.End, base.Add(9*time.Second))
	}
	st := r.Stats()
	if st.Segments != uint64(len(segs)) || st.DroppedFragments != 0 || st.WriteErrors != 0 || st.Gaps != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRecorderG711(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, nil)
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH265), loadAudio(t, testsrc.ClipPCMA), base)
	f.feed(5 * time.Second)
	finish(t, s, r)

	segs := c.list()
	files := checkSegments(t, dir, segs)
	for _, sg := range segs {
		if !strings.HasPrefix(sg.Codecs, "hvc1.") || !strings.HasSuffix(sg.Codecs, ",ipcm") {
			t.Errorf("codecs %q, want hvc1…,ipcm", sg.Codecs)
		}
		p := files[sg.Path]
		lp, ok := p.init.Tracks[1].Codec.(*mp4codecs.LPCM)
		if !ok || lp.BitDepth != 16 || lp.SampleRate != 8000 || lp.ChannelCount != 1 {
			t.Errorf("audio track %#v, want 16-bit 8 kHz mono LPCM", p.init.Tracks[1].Codec)
		}
		// 160 A-law samples per 20 ms frame become 320 bytes of PCM.
		if fs := p.firstSample(2); fs == nil || len(fs.Payload) != 320 || fs.Duration != 160 {
			t.Errorf("first PCM sample %+v", fs)
		}
		if d := p.trackDuration(2); absDuration(d-sg.Duration()) > 60*time.Millisecond {
			t.Errorf("audio lasts %v, segment %v", d, sg.Duration())
		}
	}
}

func TestRecorderCodecChange(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, func(r *Recorder) { r.SegmentDuration = time.Minute })
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), nil, base)
	f.feed(2 * time.Second)
	f.switchVideo(loadVideo(t, testsrc.ClipH265))
	f.feed(4 * time.Second)
	finish(t, s, r)

	segs := c.list()
	checkSegments(t, dir, segs)
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2 (one per codec): %+v", len(segs), segs)
	}
	if !strings.HasPrefix(segs[0].Codecs, "avc1.") || !strings.HasPrefix(segs[1].Codecs, "hvc1.") {
		t.Errorf("codecs %q then %q", segs[0].Codecs, segs[1].Codecs)
	}
	if !segs[0].End.Equal(base.Add(2*time.Second)) || !segs[1].Start.Equal(segs[0].End) {
		t.Errorf("cut at %v / %v, want %v", segs[0].End, segs[1].Start, base.Add(2*time.Second))
	}
}

func TestRecorderGap(t *testing.T) {
	t.Run("time jump", func(t *testing.T) {
		dir := t.TempDir()
		s := newTestStream("cam1")
		r, c := startRecorder(t, s, dir, func(r *Recorder) { r.SegmentDuration = time.Minute; r.GapTimeout = 3 * time.Second })
		f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
		f.feed(2 * time.Second)
		// The camera was away for 10 s; the publisher keeps stream time
		// continuous, but wall-clock times show the outage.
		f.skew = 10 * time.Second
		f.feed(4 * time.Second)
		finish(t, s, r)

		segs := c.list()
		checkSegments(t, dir, segs)
		if len(segs) != 2 {
			t.Fatalf("%d segments, want 2: %+v", len(segs), segs)
		}
		if gap := segs[1].Start.Sub(segs[0].End); gap < 9*time.Second || gap > 11*time.Second {
			t.Errorf("gap between segments %v, want about 10 s", gap)
		}
		if st := r.Stats(); st.Gaps != 1 {
			t.Errorf("stats %+v, want 1 gap", st)
		}
	})
	t.Run("burst", func(t *testing.T) {
		dir := t.TempDir()
		s := newTestStream("cam1")
		r, c := startRecorder(t, s, dir, nil) // 2 s segments
		f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
		f.feed(3 * time.Second)
		// A stalled source delivers 2.5 s of media at once: wall-clock times
		// fall behind media time. The next segments must not overlap.
		f.skew = -2500 * time.Millisecond
		f.feed(9 * time.Second)
		finish(t, s, r)
		segs := c.list()
		checkSegments(t, dir, segs)
		if len(segs) < 4 {
			t.Fatalf("%d segments: %+v", len(segs), segs)
		}
		for i := 1; i < len(segs); i++ {
			if segs[i].Start.Before(segs[i-1].End) {
				t.Errorf("segment %d starts at %v, before the previous one ends (%v)", i, segs[i].Start, segs[i-1].End)
			}
		}
	})
	t.Run("silence", func(t *testing.T) {
		dir := t.TempDir()
		s := newTestStream("cam1")
		r, c := startRecorder(t, s, dir, func(r *Recorder) { r.SegmentDuration = time.Minute; r.GapTimeout = 200 * time.Millisecond })
		f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), nil, base)
		f.feed(2 * time.Second)
		// Nothing arrives for longer than GapTimeout: the segment closes
		// while the source is away, not when it comes back.
		deadline := time.Now().Add(5 * time.Second)
		for len(c.list()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if len(c.list()) != 1 {
			t.Fatal("segment not closed during the silence")
		}
		f.feed(4 * time.Second)
		finish(t, s, r)
		segs := c.list()
		checkSegments(t, dir, segs)
		if len(segs) != 2 {
			t.Fatalf("%d segments, want 2: %+v", len(segs), segs)
		}
	})
}

// slowFile delays every write, as a disk that cannot keep up would.
type slowFile struct {
	*os.File
	delay   time.Duration
	writes  *atomic.Int64
	blocked chan struct{} // closed: writes stop waiting
}

func (f *slowFile) Write(p []byte) (int, error) {
	f.writes.Add(1)
	select {
	case <-time.After(f.delay):
	case <-f.blocked:
	}
	return f.File.Write(p)
}

func TestRecorderSlowDisk(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	var writes atomic.Int64
	unblock := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(unblock) }) }
	defer release()
	r, c := startRecorder(t, s, dir, func(r *Recorder) {
		r.QueueBytes = 64 << 10
		r.OpenFile = func(name string) (File, error) {
			f, err := createFile(name)
			if err != nil {
				return nil, err
			}
			return &slowFile{File: f.(*os.File), delay: time.Hour, writes: &writes, blocked: unblock}, nil
		}
	})
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264HD), nil, base)
	// The writer is stuck on its first write: the feeder must not be.
	start := time.Now()
	f.feed(10 * time.Second)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("publishing 10 s took %v with a stuck disk", d)
	}
	// Let the reader catch up with the stream, then free the disk.
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Units < uint64(f.vi) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	release()
	finish(t, s, r)

	st := r.Stats()
	// 10 s at 2 Mbit/s is 2.5 MB against a 64 KiB queue: all but a few
	// fragments go.
	if st.DroppedFragments < 5 {
		t.Fatalf("%d fragments dropped, want most: %+v", st.DroppedFragments, st)
	}
	if st.Skipped != 0 {
		t.Errorf("the stream reader skipped %d units: the recorder blocked on the disk", st.Skipped)
	}
	segs := c.list()
	checkSegments(t, dir, segs)
	if len(segs) < 2 {
		t.Errorf("%d segments, want several around the drops", len(segs))
	}
	for i := 1; i < len(segs); i++ {
		if segs[i].Start.Before(segs[i-1].End) {
			t.Errorf("segments overlap: %+v then %+v", segs[i-1], segs[i])
		}
	}
	t.Logf("stats after a stuck disk: %+v", st)
}

// failingFile fails every write after the first n.
type failingFile struct {
	*os.File
	n *atomic.Int64
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.n.Add(-1) < 0 {
		half := len(p) / 2
		f.File.Write(p[:half])
		return half, errors.New("disk full")
	}
	return f.File.Write(p)
}

func TestRecorderWriteError(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	var n atomic.Int64
	n.Store(4) // init + 3 fragments
	r, c := startRecorder(t, s, dir, func(r *Recorder) {
		r.SegmentDuration = time.Minute
		r.OpenFile = func(name string) (File, error) {
			f, err := createFile(name)
			if err != nil {
				return nil, err
			}
			return &failingFile{File: f.(*os.File), n: &n}, nil
		}
	})
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), nil, base)
	f.feed(5 * time.Second)
	finish(t, s, r)
	segs := c.list()
	if len(segs) != 1 {
		t.Fatalf("%d segments, want the part before the error: %+v", len(segs), segs)
	}
	checkSegments(t, dir, segs)
	if segs[0].Fragments != 3 {
		t.Errorf("%d fragments kept, want 3", segs[0].Fragments)
	}
	if st := r.Stats(); st.WriteErrors == 0 {
		t.Errorf("stats %+v, want write errors", st)
	}
}

func TestRecorderAudioOnly(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, nil)
	f := newFeeder(t, s, nil, loadAudio(t, testsrc.ClipAAC), base)
	f.feed(5 * time.Second)
	finish(t, s, r)
	segs := c.list()
	if len(segs) < 2 {
		t.Fatalf("%d segments, want at least 2", len(segs))
	}
	checkSegments(t, dir, segs)
	for i, sg := range segs {
		if sg.Codecs != "mp4a.40.2" {
			t.Errorf("codecs %q", sg.Codecs)
		}
		if i > 0 && !sg.Start.Equal(segs[i-1].End) {
			t.Errorf("segment %d starts %v, previous ended %v", i, sg.Start, segs[i-1].End)
		}
	}
}

// TestRecorderStops checks that Close stops every goroutine of a recorder,
// with the stream still open and a segment being written.
func TestRecorderStops(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, nil)
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), nil, base)
	f.feed(1500 * time.Millisecond)
	for r.Stats().Units < uint64(f.vi) {
		time.Sleep(time.Millisecond)
	}
	r.Close()
	r.Close() // idempotent
	if len(c.list()) != 1 {
		t.Errorf("%d segments after Close, want the open one closed", len(c.list()))
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
