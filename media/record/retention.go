package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Retention decides which segments to delete: those older than their
// stream's maximum age, then, oldest first, as many as it takes to bring the
// recordings under a byte quota and the disk above a free-space floor. A
// leased segment is never picked; its bytes are counted as kept.
//
// Retention is pure logic: the caller lists the candidates (oldest first,
// from the index), measures usage and free space (FreeBytes), deletes the
// files of the plan (DeleteFiles) and then their index rows. The zero value
// deletes nothing.
type Retention struct {
	// MaxAge returns how long segments of a stream are kept (0: no limit).
	// Nil means no limit for any stream.
	MaxAge func(stream string) time.Duration
	// MaxBytes is the quota for all recordings together (0: none).
	MaxBytes int64
	// MinFreeBytes is the free disk space to keep (0: none).
	MinFreeBytes int64
	// Leases are the segments being read (nil: none).
	Leases *Leases
}

// Usage is what the caller measured before planning.
type Usage struct {
	// TotalBytes is the size of all recordings (the index's sum).
	TotalBytes int64
	// FreeBytes is the free space on the recordings' file system; negative
	// when unknown, which disables the free-space rule.
	FreeBytes int64
}

// Plan returns the segments to delete among candidates, which must be
// ordered oldest first (by Start): every expired one, and, for space, the
// oldest ones until the quota and the free-space floor are met. Leased
// segments are skipped (the next oldest goes instead), and a segment listed
// twice counts once, so a caller may pass the oldest segments of all streams
// followed by each stream's expired ones.
func (r *Retention) Plan(now time.Time, candidates []Segment, u Usage) []Segment {
	need := int64(0)
	if r.MaxBytes > 0 && u.TotalBytes > r.MaxBytes {
		need = u.TotalBytes - r.MaxBytes
	}
	if r.MinFreeBytes > 0 && u.FreeBytes >= 0 && u.FreeBytes < r.MinFreeBytes {
		need = max(need, r.MinFreeBytes-u.FreeBytes)
	}
	var out []Segment
	seen := make(map[int64]bool, len(candidates))
	for _, s := range candidates {
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		if r.Leases != nil && r.Leases.Held(s.ID) {
			continue
		}
		expired := false
		if r.MaxAge != nil {
			if age := r.MaxAge(s.Stream); age > 0 && now.Sub(s.End) > age {
				expired = true
			}
		}
		if !expired && need <= 0 {
			continue
		}
		out = append(out, s)
		need -= s.Bytes
	}
	return out
}

// DeleteFiles removes the files of segs and returns the segments that are
// gone (deleted now or missing already), whose index rows the caller then
// deletes. A segment leased since the plan was made is skipped. Date
// directories left empty are removed when they are older than yesterday: a
// recorder may be about to write into a newer one.
func DeleteFiles(segs []Segment, leases *Leases) (gone []Segment, err error) {
	var errs []error
	dirs := map[string]bool{}
	for _, s := range segs {
		if leases != nil && leases.Held(s.ID) {
			continue
		}
		if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, s)
		dirs[filepath.Dir(s.Path)] = true
	}
	old := time.Now().Add(-48 * time.Hour)
	for d := range dirs {
		if day, err := time.Parse(dateLayout, filepath.Base(d)); err == nil && day.Before(old) {
			os.Remove(d) // fails, as it should, on a directory that still holds files
		}
	}
	if len(errs) > 0 {
		return gone, fmt.Errorf("record: delete segments: %w", errors.Join(errs...))
	}
	return gone, nil
}
