package record

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// File is a segment file being written. *os.File implements it.
type File interface {
	io.Writer
	// Truncate cuts the file back to the last complete fragment after a
	// failed write.
	Truncate(size int64) error
	Sync() error
	Close() error
}

// createFile is the default Recorder.OpenFile.
func createFile(name string) (File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// segmentWriter writes the segments of one recorder, one at a time, from the
// writer goroutine. A fragment is one write (so a crash leaves whole
// fragments and at most one partial one, which Recover cuts off); a segment
// is fsynced, renamed to its final name and reported when it closes.
type segmentWriter struct {
	r *Recorder

	cur    *openSegment
	f      File
	off    int64
	frags  []fragInfo
	failed *openSegment // a segment whose file failed: its fragments are skipped

	refFirst, refEnd uint64
	hasRef           bool
}

// do carries out one job.
func (w *segmentWriter) do(j job) {
	if j.frag == nil {
		if j.seg == w.cur {
			w.finish()
		}
		if j.seg == w.failed {
			w.failed = nil
		}
		return
	}
	if j.seg == w.failed {
		return
	}
	if j.seg != w.cur {
		w.finish()
		if err := w.open(j.seg); err != nil {
			w.r.stats.writeErrors.Add(1)
			w.r.writeProblem.warn("path", j.seg.path, "err", err)
			w.failed = j.seg
			return
		}
	}
	f := j.frag
	if _, err := w.f.Write(f.data); err != nil {
		w.r.stats.writeErrors.Add(1)
		w.r.writeProblem.warn("path", w.cur.path, "err", err)
		// Keep what was written before: cut the partial fragment off and
		// close the segment there.
		if err := w.f.Truncate(w.off); err != nil {
			w.r.log.Warn("cannot truncate segment after a failed write", "path", w.cur.path, "err", err)
		}
		seg := w.cur
		w.finish()
		w.failed = seg
		return
	}
	fi := fragInfo{off: w.off, moofSize: f.moofSize, size: int64(len(f.data)), runs: make([]run, len(f.runs))}
	for i, r := range f.runs {
		r.dataOff += w.off
		fi.runs[i] = r
	}
	w.frags = append(w.frags, fi)
	w.off += int64(len(f.data))
	if f.hasRef {
		if !w.hasRef {
			w.refFirst, w.hasRef = f.refBase, true
		}
		w.refEnd = max(w.refEnd, f.refEnd)
	}
	w.r.stats.fragments.Add(1)
	w.r.stats.bytes.Add(uint64(len(f.data)))
}

// open creates the part file of seg and writes its init segment.
func (w *segmentWriter) open(seg *openSegment) error {
	if err := os.MkdirAll(filepath.Dir(seg.path), 0o755); err != nil {
		return err
	}
	f, err := w.r.OpenFile(seg.path + partSuffix)
	if err != nil {
		return err
	}
	if _, err := f.Write(seg.init); err != nil {
		f.Close()
		os.Remove(seg.path + partSuffix)
		return err
	}
	w.cur, w.f, w.off, w.frags, w.hasRef, w.refEnd = seg, f, int64(len(seg.init)), nil, false, 0
	w.r.current.Store(&seg.path)
	return nil
}

// finish closes the open segment: index, fsync, rename, report. A segment
// without a fragment is removed.
func (w *segmentWriter) finish() {
	seg, f := w.cur, w.f
	if seg == nil {
		return
	}
	w.cur, w.f = nil, nil
	w.r.current.Store(nil)
	part := seg.path + partSuffix
	if len(w.frags) == 0 {
		f.Close()
		os.Remove(part)
		return
	}
	size := w.off
	idx := encodeIndex(0, w.frags)
	if _, err := f.Write(idx); err != nil {
		// The segment is whole without its index (readers walk its
		// fragments instead); only the partial index must go.
		w.r.log.Warn("cannot write segment index", "path", part, "err", err)
		if err := f.Truncate(size); err != nil {
			w.r.log.Warn("cannot truncate segment index", "path", part, "err", err)
		}
	} else {
		size += int64(len(idx))
	}
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The data may not be on disk. Leave the part file: Recover will
		// check and index what survived at the next start.
		w.r.stats.writeErrors.Add(1)
		w.r.writeProblem.warn("path", part, "err", err)
		return
	}
	if err := os.Rename(part, seg.path); err != nil {
		w.r.stats.writeErrors.Add(1)
		w.r.writeProblem.warn("path", part, "err", err)
		return
	}
	if err := syncDir(filepath.Dir(seg.path)); err != nil {
		w.r.log.Debug("cannot sync segment directory", "path", seg.path, "err", err)
	}
	out := Segment{
		Stream:    seg.stream,
		Path:      seg.path,
		Start:     seg.start,
		End:       segmentEnd(seg.start, w.refFirst, w.refEnd, seg.refRate),
		Bytes:     size,
		Codecs:    seg.codecs,
		Fragments: len(w.frags),
	}
	w.frags = nil
	w.r.stats.segments.Add(1)
	w.r.log.Debug("segment closed", "path", out.Path, "duration", out.Duration(), "bytes", out.Bytes)
	if w.r.OnSegment != nil {
		w.r.OnSegment(out)
	}
}

// segmentEnd returns the end of a segment starting at start whose reference
// track runs from first to end (ticks of rate), at millisecond precision.
func segmentEnd(start time.Time, first, end uint64, rate uint32) time.Time {
	if end < first || rate == 0 {
		return start
	}
	return msTime(start.Add(ticksToDuration(int64(end-first), rate)))
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) {
		return nil // some file systems cannot sync a directory
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
