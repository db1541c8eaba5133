package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/nvr/nvr/media/testsrc"
)

// recordSegments records d of H.264+AAC with 2 s segments and returns them.
func recordSegments(t testing.TB, dir string, d time.Duration) []Segment {
	t.Helper()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, nil)
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
	f.feed(d)
	finish(t, s, r)
	segs := c.list()
	for i := range segs {
		segs[i].ID = int64(i + 1)
	}
	return segs
}

// readAll reads an export through ReadAt in one call.
func readAll(t testing.TB, e *Export) []byte {
	t.Helper()
	b := make([]byte, e.Size())
	n, err := e.ReadAt(b, 0)
	if err != nil || int64(n) != e.Size() {
		t.Fatalf("ReadAt(all) = %d, %v; size %d", n, err, e.Size())
	}
	return b
}

// mp4Info is what the tests check of a progressive MP4, read with our box
// walker (mediacommon's reader ignores edit lists).
type mp4Info struct {
	duration uint64 // mvhd, movie timescale
	tracks   []mp4Track
}

type mp4Track struct {
	handler   string
	timescale uint32
	entries   int
	samples   int
	mediaDur  uint64
	firstSync bool // sample 1 is a sync sample
	edits     []editEntry
}

func inspect(t testing.TB, b []byte) mp4Info {
	t.Helper()
	var info mp4Info
	err := children(b, func(typ string, p []byte) error {
		if typ != "moov" {
			return nil
		}
		return children(p, func(typ string, p []byte) error {
			switch typ {
			case "mvhd":
				info.duration = binary.BigEndian.Uint64(p[24:])
			case "trak":
				var tr mp4Track
				tr.firstSync = true
				var walk func([]byte) error
				walk = func(b []byte) error {
					return children(b, func(typ string, p []byte) error {
						switch typ {
						case "edts", "mdia", "minf", "stbl":
							return walk(p)
						case "elst":
							n := binary.BigEndian.Uint32(p[4:])
							for i := range int(n) {
								e := p[8+20*i:]
								tr.edits = append(tr.edits, editEntry{dur: binary.BigEndian.Uint64(e), mediaTime: int64(binary.BigEndian.Uint64(e[8:]))})
							}
						case "mdhd":
							tr.timescale = binary.BigEndian.Uint32(p[20:])
							tr.mediaDur = binary.BigEndian.Uint64(p[24:])
						case "hdlr":
							tr.handler = string(p[8:12])
						case "stsd":
							tr.entries = int(binary.BigEndian.Uint32(p[4:]))
						case "stsz":
							tr.samples = int(binary.BigEndian.Uint32(p[8:]))
						case "stss":
							tr.firstSync = binary.BigEndian.Uint32(p[4:]) > 0 && binary.BigEndian.Uint32(p[8:]) == 1
						}
						return nil
					})
				}
				if err := walk(p); err != nil {
					return err
				}
				info.tracks = append(info.tracks, tr)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// ffprobeDuration returns the format duration ffprobe reports for a file.
func ffprobeDuration(t *testing.T, path string) time.Duration {
	t.Helper()
	ffprobe := requireTool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var res struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	sec, err := strconv.ParseFloat(res.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v\n%s", res.Format.Duration, err, out)
	}
	return time.Duration(sec * float64(time.Second))
}

// ffmpegFrames decodes a file and returns how many video frames come out.
func ffmpegFrames(t *testing.T, path string) int {
	t.Helper()
	ffprobe := requireTool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe -count_frames: %v\n%s", err, out)
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(out)))
	if err != nil {
		t.Fatalf("frames %q: %v", out, err)
	}
	return n
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	segs := recordSegments(t, dir, 7*time.Second)
	if len(segs) < 4 {
		t.Fatalf("%d segments", len(segs))
	}
	// From inside the first full segment to inside the third: three
	// segments, a start between keyframes (every second) and an end too.
	start := segs[1].Start.Add(1300 * time.Millisecond)
	end := segs[3].Start.Add(500 * time.Millisecond)
	if !start.Before(segs[2].Start) {
		t.Fatalf("segments %+v too short for the test", segs)
	}
	e, err := OpenExport(segs, start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !e.Start().Equal(start) || !e.End().Equal(end) {
		t.Errorf("export covers %v–%v, want %v–%v", e.Start(), e.End(), start, end)
	}
	body := readAll(t, e)

	// Any range reads the same bytes as the whole.
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := rnd.Int64N(e.Size())
		n := rnd.Int64N(min(e.Size()-off, 300000)) + 1
		buf := make([]byte, n)
		if _, err := e.ReadAt(buf, off); err != nil {
			t.Fatalf("ReadAt(%d, %d): %v", off, n, err)
		}
		if !bytes.Equal(buf, body[off:off+n]) {
			t.Fatalf("ReadAt(%d, %d) differs from the whole", off, n)
		}
	}
	if n, err := e.ReadAt(make([]byte, 10), e.Size()-4); n != 4 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt past the end = %d, %v", n, err)
	}
	sr := io.NewSectionReader(e, 0, e.Size())
	if b, err := io.ReadAll(sr); err != nil || !bytes.Equal(b, body) {
		t.Errorf("SectionReader read %d bytes, %v", len(b), err)
	}

	info := inspect(t, body)
	want := uint64(end.Sub(start).Milliseconds())
	if info.duration != want {
		t.Errorf("mvhd duration %d ms, want %d", info.duration, want)
	}
	if len(info.tracks) != 2 || info.tracks[0].handler != "vide" || info.tracks[1].handler != "soun" {
		t.Fatalf("tracks %+v", info.tracks)
	}
	v := info.tracks[0]
	if !v.firstSync {
		t.Error("the first video sample is not a keyframe")
	}
	// The file starts at the keyframe at or before start (whole seconds
	// from the recording's start), the edit skips to start.
	skip := start.Sub(base) % time.Second
	if len(v.edits) != 1 || v.edits[0].mediaTime != durationToTicks(skip, videoTimescale) || v.edits[0].dur != want {
		t.Errorf("video edits %+v, want skip %v for %d ms", v.edits, skip, want)
	}
	frames := int((end.Sub(start) + skip) * 25 / time.Second)
	if v.samples < frames-1 || v.samples > frames+1 {
		t.Errorf("%d video samples, want about %d", v.samples, frames)
	}

	// mediacommon reads it as an MP4.
	var pres pmp4.Presentation
	if err := pres.Unmarshal(bytes.NewReader(body)); err != nil {
		t.Fatalf("mediacommon cannot read the export: %v", err)
	}
	if len(pres.Tracks) != 2 || len(pres.Tracks[0].Samples) != v.samples || pres.Tracks[0].Samples[0].IsNonSyncSample {
		t.Errorf("mediacommon sees %d tracks", len(pres.Tracks))
	}

	// Players agree.
	path := dir + "/export.mp4"
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := ffprobeDuration(t, path); absDuration(d-end.Sub(start)) > 25*time.Millisecond {
		t.Errorf("ffprobe duration %v, want %v", d, end.Sub(start))
	}
	// ffmpeg applies the edit list: the frames before start are decoded
	// but not shown.
	shown := int(end.Sub(start) * 25 / time.Second)
	if n := ffmpegFrames(t, path); n < shown-1 || n > shown+1 {
		t.Errorf("ffprobe shows %d frames, want about %d", n, shown)
	}

	// The same range gives the same ETag; another range another.
	e2, err := OpenExport(segs, start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	e3, err := OpenExport(segs, start, end.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer e3.Close()
	if e.ETag() != e2.ETag() || e.ETag() == e3.ETag() || e.ETag()[0] != '"' {
		t.Errorf("ETags %s %s %s", e.ETag(), e2.ETag(), e3.ETag())
	}
	if e.Close() != nil {
		t.Error("Close failed")
	}
	if _, err := e.ReadAt(make([]byte, 10), e.Size()-10); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
}

func TestExportClipped(t *testing.T) {
	dir := t.TempDir()
	segs := recordSegments(t, dir, 5*time.Second)
	// Asking for more than was recorded gives what was.
	e, err := OpenExport(segs, base.Add(-time.Hour), base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	last := segs[len(segs)-1]
	if !e.Start().Equal(base) || !e.End().Equal(last.End) {
		t.Errorf("export covers %v–%v, want %v–%v", e.Start(), e.End(), base, last.End)
	}
	info := inspect(t, readAll(t, e))
	if len(info.tracks[0].edits) != 1 || info.tracks[0].edits[0].mediaTime != 0 {
		t.Errorf("edits %+v", info.tracks[0].edits)
	}
	if _, err := OpenExport(segs, base.Add(time.Hour), base.Add(2*time.Hour)); !errors.Is(err, ErrNoMedia) {
		t.Errorf("export after the recordings: %v", err)
	}
}

func TestExportGapAndCodecChange(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, func(r *Recorder) { r.SegmentDuration = time.Minute; r.GapTimeout = 2 * time.Second })
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
	f.feed(2 * time.Second)
	f.skew = 3 * time.Second // a 3 s outage
	f.feed(4 * time.Second)
	f.switchVideo(loadVideo(t, testsrc.ClipH264HD)) // new SPS: a new segment
	f.feed(6 * time.Second)
	finish(t, s, r)
	segs := c.list()
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3: %+v", len(segs), segs)
	}

	start, end := base.Add(500*time.Millisecond), base.Add(8500*time.Millisecond)
	e, err := OpenExport(segs, start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	body := readAll(t, e)
	info := inspect(t, body)
	if info.duration != 8000 {
		t.Errorf("duration %d ms, want 8000 (the gap is kept as time)", info.duration)
	}
	if info.tracks[0].entries != 2 {
		t.Errorf("%d video sample descriptions, want 2 (one per SPS)", info.tracks[0].entries)
	}
	// Media time equals wall time: 0.5 s skipped + 8 s presented.
	if got := ticksToDuration(int64(info.tracks[0].mediaDur), videoTimescale); absDuration(got-8500*time.Millisecond) > 40*time.Millisecond {
		t.Errorf("video media lasts %v, want about 8.5 s", got)
	}
	path := dir + "/export.mp4"
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := ffprobeDuration(t, path); absDuration(d-8*time.Second) > 25*time.Millisecond {
		t.Errorf("ffprobe duration %v, want 8 s", d)
	}
	ffmpeg := requireTool(t, "ffmpeg")
	if out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decoding the export: %v\n%s", err, out)
	}
}

// TestExportCodecs exports H.265 with G.711 (stored as PCM) and checks that
// ffmpeg decodes both tracks.
func TestExportCodecs(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, nil)
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH265), loadAudio(t, testsrc.ClipPCMA), base)
	f.feed(5 * time.Second)
	finish(t, s, r)
	segs := c.list()
	e, err := OpenExport(segs, base.Add(700*time.Millisecond), base.Add(4200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	path := dir + "/export.mp4"
	if err := os.WriteFile(path, readAll(t, e), 0o644); err != nil {
		t.Fatal(err)
	}
	if d := ffprobeDuration(t, path); absDuration(d-3500*time.Millisecond) > 25*time.Millisecond {
		t.Errorf("ffprobe duration %v, want 3.5 s", d)
	}
	ffprobe := requireTool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil || string(bytes.TrimSpace(out)) != "hevc\npcm_s16be" {
		t.Errorf("streams %q, %v; want hevc and pcm_s16be", out, err)
	}
	ffmpeg := requireTool(t, "ffmpeg")
	if out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decoding the export: %v\n%s", err, out)
	}
}
