package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SegmentFile is a closed segment file found on disk, with what its path
// says. ReadSegment reads the rest.
type SegmentFile struct {
	Stream string
	Path   string
	Start  time.Time
}

// RecoverRecent is Recover limited to the newest days date directories of
// each stream. A recorder only writes into the directory of its segment's
// start date, so the part files a crash leaves are there; walking the whole
// tree (a month of a hundred channels is four million files) would make a
// restart after a crash slow for nothing. A missing dir is not an error.
func RecoverRecent(dir string, days int) ([]Segment, error) {
	dirs, err := recentDateDirs(dir, days)
	var out []Segment
	errs := []error{err}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), segmentSuffix+partSuffix) {
				continue
			}
			path := filepath.Join(d, e.Name())
			seg, ok, err := recoverFile(path)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("record: recover %s: %w", path, err))
			case ok:
				out = append(out, seg)
			}
		}
	}
	return out, errors.Join(errs...)
}

// RecentSegmentFiles lists the closed segment files (not the part files) in
// the newest days date directories of each stream under dir, ordered by
// stream and start. After a crash between a segment's rename and its
// indexing, the file is among them: the caller compares them with its index
// and reads the unknown ones with ReadSegment. A missing dir is not an error.
func RecentSegmentFiles(dir string, days int) ([]SegmentFile, error) {
	dirs, err := recentDateDirs(dir, days)
	var out []SegmentFile
	errs := []error{err}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), segmentSuffix) {
				continue
			}
			path := filepath.Join(d, e.Name())
			stream, start, err := parseSegmentPath(path)
			if err != nil {
				continue // not ours
			}
			out = append(out, SegmentFile{Stream: stream, Path: path, Start: start})
		}
	}
	slices.SortFunc(out, func(a, b SegmentFile) int {
		if c := strings.Compare(a.Stream, b.Stream); c != 0 {
			return c
		}
		return a.Start.Compare(b.Start)
	})
	return out, errors.Join(errs...)
}

// recentDateDirs returns the newest days date directories of every stream
// directory under dir.
func recentDateDirs(dir string, days int) ([]string, error) {
	streams, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	var errs []error
	for _, s := range streams {
		if !s.IsDir() {
			continue
		}
		sdir := filepath.Join(dir, s.Name())
		entries, err := os.ReadDir(sdir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var dates []string
		for _, e := range entries {
			if _, err := time.Parse(dateLayout, e.Name()); err == nil && e.IsDir() {
				dates = append(dates, e.Name())
			}
		}
		// YYYY-MM-DD sorts by date.
		slices.Sort(dates)
		for _, d := range dates[max(0, len(dates)-days):] {
			out = append(out, filepath.Join(sdir, d))
		}
	}
	return out, errors.Join(errs...)
}
