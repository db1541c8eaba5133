package record

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nvr/nvr/media/testsrc"
)

// recordOne records d of H.264+AAC into one segment under dir and returns it.
func recordOne(t *testing.T, dir string, d time.Duration) Segment {
	t.Helper()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, func(r *Recorder) { r.SegmentDuration = time.Hour })
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
	f.feed(d)
	finish(t, s, r)
	segs := c.list()
	if len(segs) != 1 {
		t.Fatalf("%d segments, want 1", len(segs))
	}
	return segs[0]
}

// requireTool returns the path of an external tool, skipping the test when it
// is missing unless NVR_REQUIRE_TOOLS=1.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("NVR_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func TestRecover(t *testing.T) {
	dir := t.TempDir()
	seg := recordOne(t, dir, 5*time.Second)
	x, err := openIndex(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(x.frags)
	if n < 3 {
		t.Fatalf("only %d fragments", n)
	}
	// The crash: the last fragment half written, no index, not renamed.
	last := x.frags[n-1]
	crashed := whole[:last.off+last.size/2]
	if err := os.Remove(seg.Path); err != nil {
		t.Fatal(err)
	}
	part := seg.Path + partSuffix
	if err := os.WriteFile(part, crashed, 0o644); err != nil {
		t.Fatal(err)
	}
	// Two more crashes: one before the init was complete, one right after it.
	early := filepath.Join(filepath.Dir(seg.Path), "1773480500000.mp4.part")
	if err := os.WriteFile(early, whole[:len(x.init)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(filepath.Dir(seg.Path), "1773480600000.mp4.part")
	if err := os.WriteFile(empty, whole[:len(x.init)+10], 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := Recover(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("recovered %+v, want one segment", got)
	}
	r := got[0]
	if r.Path != seg.Path || !r.Start.Equal(seg.Start) || r.Stream != "cam1" || r.Codecs != seg.Codecs {
		t.Errorf("recovered %+v, from %+v", r, seg)
	}
	if r.Fragments != n-1 {
		t.Errorf("%d fragments recovered, want %d", r.Fragments, n-1)
	}
	// The end is where the last whole fragment ends.
	var dur uint64
	for _, f := range x.frags[:n-1] {
		for _, rn := range f.runs {
			if rn.track == x.ref {
				for _, s := range rn.samples {
					dur += uint64(s.dur)
				}
			}
		}
	}
	if want := msTime(seg.Start.Add(ticksToDuration(int64(dur), videoTimescale))); !r.End.Equal(want) {
		t.Errorf("end %v, want %v", r.End, want)
	}
	for _, p := range []string{part, early, empty} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	// Nothing before the broken fragment is lost.
	rec, err := os.ReadFile(r.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec[:last.off], whole[:last.off]) {
		t.Error("recovered media differ from what was written")
	}
	if int64(len(rec)) != r.Bytes {
		t.Errorf("file has %d bytes, reported %d", len(rec), r.Bytes)
	}
	checkSegments(t, dir, got)
	if rs, err := ReadSegment(r.Path); err != nil || !rs.End.Equal(r.End) || rs.Fragments != r.Fragments {
		t.Errorf("ReadSegment = %+v, %v; want %+v", rs, err, r)
	}

	// Recovering again finds nothing to do.
	if again, err := Recover(dir); err != nil || len(again) != 0 {
		t.Errorf("second Recover = %+v, %v", again, err)
	}
	if got, err := Recover(filepath.Join(dir, "missing")); err != nil || got != nil {
		t.Errorf("Recover of a missing dir = %v, %v", got, err)
	}

	ffmpeg := requireTool(t, "ffmpeg")
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", r.Path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg cannot decode the recovered segment: %v\n%s", err, out)
	}
}
