package record

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func ids(segs []Segment) []int64 {
	out := make([]int64, len(segs))
	for i, s := range segs {
		out[i] = s.ID
	}
	return out
}

func TestRetentionPlan(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	// Oldest first: ID i+1 ended i hours after midnight, 100 bytes each;
	// "a" (odd IDs) keeps 5 hours, so at noon IDs 1, 3, 5 and 7 expired;
	// "b" keeps everything.
	var segs []Segment
	for i := range 10 {
		stream := "a"
		if i%2 == 1 {
			stream = "b"
		}
		end := time.Date(2026, 3, 14, i, 0, 0, 0, time.UTC)
		segs = append(segs, Segment{ID: int64(i + 1), Stream: stream, Start: end.Add(-time.Minute), End: end, Bytes: 100})
	}
	maxAge := func(s string) time.Duration {
		if s == "a" {
			return 5 * time.Hour
		}
		return 0
	}
	leases := &Leases{}
	tests := []struct {
		name  string
		r     Retention
		usage Usage
		lease []int64
		want  []int64
	}{
		{"nothing to do", Retention{}, Usage{TotalBytes: 1000, FreeBytes: -1}, nil, nil},
		{"max age", Retention{MaxAge: maxAge}, Usage{TotalBytes: 1000, FreeBytes: -1}, nil, []int64{1, 3, 5, 7}},
		{"quota", Retention{MaxBytes: 750}, Usage{TotalBytes: 1000, FreeBytes: -1}, nil, []int64{1, 2, 3}},
		{"quota and age", Retention{MaxBytes: 850, MaxAge: maxAge}, Usage{TotalBytes: 1000, FreeBytes: -1}, nil, []int64{1, 2, 3, 5, 7}},
		{"free space", Retention{MinFreeBytes: 500}, Usage{TotalBytes: 1000, FreeBytes: 300}, nil, []int64{1, 2}},
		{"free space unknown", Retention{MinFreeBytes: 500}, Usage{TotalBytes: 1000, FreeBytes: -1}, nil, nil},
		{"the larger need wins", Retention{MinFreeBytes: 500, MaxBytes: 900}, Usage{TotalBytes: 1000, FreeBytes: 200}, nil, []int64{1, 2, 3}},
		{"leased segments stay, the next go", Retention{MaxBytes: 750, MaxAge: maxAge}, Usage{TotalBytes: 1000, FreeBytes: -1}, []int64{1, 3}, []int64{2, 4, 5, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			r.Leases = leases
			leases.Acquire(tt.lease)
			defer leases.Release(tt.lease)
			got := ids(r.Plan(now, segs, tt.usage))
			if !slices.Equal(got, tt.want) {
				t.Errorf("plan %v, want %v", got, tt.want)
			}
		})
	}
	// A segment listed twice (oldest overall, then expired) counts once.
	r := Retention{MaxBytes: 900, MaxAge: maxAge}
	got := ids(r.Plan(now, append(slices.Clone(segs), segs[0], segs[2]), Usage{TotalBytes: 1000, FreeBytes: -1}))
	if !slices.Equal(got, []int64{1, 3, 5, 7}) {
		t.Errorf("plan with duplicates %v", got)
	}
}

func TestLeases(t *testing.T) {
	var l Leases
	l.Acquire([]int64{1, 2})
	l.Acquire([]int64{2})
	l.Release([]int64{2})
	if !l.Held(1) || !l.Held(2) || l.Held(3) {
		t.Error("wrong leases after two acquires and one release")
	}
	l.Release([]int64{1, 2, 3})
	if l.Held(1) || l.Held(2) {
		t.Error("leases held after release")
	}
}

func TestDeleteFiles(t *testing.T) {
	dir := t.TempDir()
	oldDay := filepath.Join(dir, "cam1", "2020-01-01")
	today := filepath.Join(dir, "cam1", time.Now().Format(dateLayout))
	var segs []Segment
	for i, d := range []string{oldDay, oldDay, today} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, formatID(i)+".mp4")
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		segs = append(segs, Segment{ID: int64(i + 1), Path: p})
	}
	segs = append(segs, Segment{ID: 9, Path: filepath.Join(oldDay, "gone.mp4")})
	var l Leases
	l.Acquire([]int64{2})
	gone, err := DeleteFiles(segs, &l)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(gone); !slices.Equal(got, []int64{1, 3, 9}) {
		t.Errorf("gone %v, want 1, 3 and the missing 9", got)
	}
	if _, err := os.Stat(segs[1].Path); err != nil {
		t.Errorf("leased segment deleted: %v", err)
	}
	l.Release([]int64{2})
	if _, err := DeleteFiles(segs[1:2], &l); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(oldDay); !os.IsNotExist(err) {
		t.Errorf("empty old day directory kept: %v", err)
	}
	if _, err := os.Stat(today); err != nil {
		t.Errorf("today's directory removed: %v", err)
	}
	if free, err := FreeBytes(dir); err != nil || free <= 0 {
		t.Errorf("FreeBytes = %d, %v", free, err)
	}
}

func formatID(i int) string { return string(rune('a' + i)) }
