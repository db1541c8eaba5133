package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Recover finishes the segments a crash left open under dir: every
// "<start>.mp4.part" file is cut back to its last complete fragment (a crash
// leaves at most one partial moof+mdat, since each fragment is one write),
// given its index, synced and renamed to "<start>.mp4". It returns the
// recovered segments for the caller to index; their start comes from the file
// name and their end from the fragments' durations. A part file without a
// single complete fragment holds no media and is removed.
//
// Recover must run before a Recorder writes into dir. A file it cannot
// recover is left as it is and its error joined into the returned error; the
// others are still recovered. A missing dir is not an error.
func Recover(dir string) ([]Segment, error) {
	var out []Segment
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(path, segmentSuffix+partSuffix) {
			return nil
		}
		seg, ok, err := recoverFile(path)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("record: recover %s: %w", path, err))
		case ok:
			out = append(out, seg)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// recoverFile recovers one part file; ok is false when it held nothing.
func recoverFile(part string) (seg Segment, ok bool, err error) {
	final := strings.TrimSuffix(part, partSuffix)
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		return Segment{}, false, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return Segment{}, false, err
	}
	x := &segIndex{path: final, size: st.Size()}
	if x.stream, x.start, err = parseSegmentPath(part); err != nil {
		return Segment{}, false, err
	}
	if err := x.readHead(f); err != nil {
		if errors.Is(err, ErrNotSegment) {
			// The crash came before the init was written: nothing to keep.
			f.Close()
			f = nil
			return Segment{}, false, os.Remove(part)
		}
		return Segment{}, false, err
	}
	end, err := x.scan(f, x.size)
	if err != nil {
		return Segment{}, false, err
	}
	if len(x.frags) == 0 {
		f.Close()
		f = nil
		return Segment{}, false, os.Remove(part)
	}
	if err := f.Truncate(end); err != nil {
		return Segment{}, false, err
	}
	idx := encodeIndex(x.ref, x.frags)
	if _, err := f.WriteAt(idx, end); err != nil {
		return Segment{}, false, err
	}
	x.size, x.mediaEnd = end+int64(len(idx)), end
	if err := f.Sync(); err != nil {
		return Segment{}, false, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return Segment{}, false, err
	}
	if err := os.Rename(part, final); err != nil {
		return Segment{}, false, err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Segment{}, false, err
	}
	return x.segment(), true, nil
}

// ReadSegment returns what a closed segment file holds, from its head and
// index. It lets a caller index a segment it did not see closing, for
// example one whose OnSegment was cut short by a crash.
func ReadSegment(path string) (Segment, error) {
	x, err := openIndex(path)
	if err != nil {
		return Segment{}, err
	}
	return x.segment(), nil
}
