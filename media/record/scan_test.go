package record

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRecoverRecentAndSegmentFiles(t *testing.T) {
	dir := t.TempDir()
	seg := recordOne(t, dir, 3*time.Second)
	whole, err := os.ReadFile(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := openIndex(seg.Path)
	if err != nil {
		t.Fatal(err)
	}
	sdir := filepath.Dir(filepath.Dir(seg.Path))
	// Three date directories of the stream: an old part file (beyond the
	// newest two, left alone), a closed segment the day before, and today's
	// part file cut in its last fragment.
	put := func(day, name string, b []byte) string {
		t.Helper()
		p := filepath.Join(sdir, day, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	last := x.frags[len(x.frags)-1]
	old := put("2020-01-01", "1577836800000.mp4.part", whole[:last.off+5])
	closed := put("2020-01-02", "1577923200000.mp4", whole)
	part := put("2020-01-03", "1578009600000.mp4.part", whole[:last.off+5])
	if err := os.Remove(seg.Path); err != nil { // its own date is the newest; keep the test about the three
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Dir(seg.Path)); err != nil {
		t.Fatal(err)
	}
	// Files that are not segments are ignored.
	put("2020-01-03", "notes.txt", []byte("x"))
	put("not-a-date", "1578009600000.mp4", whole)

	got, err := RecoverRecent(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	final := part[:len(part)-len(partSuffix)]
	if len(got) != 1 || got[0].Path != final || got[0].Fragments != len(x.frags)-1 {
		t.Fatalf("RecoverRecent = %+v, want %s", got, final)
	}
	if _, err := os.Stat(old); err != nil {
		t.Errorf("the part file of an older day was touched: %v", err)
	}

	files, err := RecentSegmentFiles(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.Stream != "cam1" {
			t.Errorf("stream %q", f.Stream)
		}
	}
	if !slices.Equal(paths, []string{closed, final}) {
		t.Errorf("RecentSegmentFiles = %v, want %v", paths, []string{closed, final})
	}
	if files[0].Start.UnixMilli() != 1577923200000 {
		t.Errorf("start %v", files[0].Start)
	}

	for _, f := range []func(string, int) error{
		func(d string, n int) error { _, err := RecoverRecent(d, n); return err },
		func(d string, n int) error { _, err := RecentSegmentFiles(d, n); return err },
	} {
		if err := f(filepath.Join(dir, "missing"), 2); err != nil {
			t.Errorf("missing dir: %v", err)
		}
	}
}
