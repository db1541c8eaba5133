package record

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File name suffixes. A segment is written under its final name plus
// partSuffix and renamed when it is complete, so that a crash leaves only
// files Recover knows to be unfinished.
const (
	segmentSuffix = ".mp4"
	partSuffix    = ".part"
	dateLayout    = "2006-01-02"
)

// ErrBadName is returned for a path that is not laid out as
// <dir>/<stream>/<YYYY-MM-DD>/<start-unix-ms>.mp4[.part].
var ErrBadName = errors.New("not a segment file name")

// Segment is one closed recording file: an fMP4 file holding Start to End of
// one stream, starting with a keyframe.
type Segment struct {
	// ID is the segment's database ID; zero until the caller indexed it.
	// Exports use it to name their ETag.
	ID int64
	// Stream is the name of the recorded stream.
	Stream string
	// Path is the file.
	Path string
	// Start is the wall-clock time of the first sample (millisecond precision:
	// it is also the file name). End is Start plus the media duration.
	Start, End time.Time
	// Bytes is the size of the file.
	Bytes int64
	// Codecs lists the tracks as RFC 6381 codec strings, video first, joined
	// by commas: "avc1.4d401e,mp4a.40.2". G.711 is stored as 16-bit PCM
	// ("ipcm", ISO/IEC 23003-5).
	Codecs string
	// Fragments is the number of moof+mdat pairs.
	Fragments int
}

// Duration returns End - Start.
func (s Segment) Duration() time.Duration { return s.End.Sub(s.Start) }

// streamDir returns the directory name of a stream: its name escaped so that
// it is one path element whatever it holds.
func streamDir(stream string) (string, error) {
	if stream == "" || stream == "." || stream == ".." {
		return "", fmt.Errorf("record: stream name %q cannot be a directory", stream)
	}
	return url.PathEscape(stream), nil
}

// segmentPath returns the final path of a segment of stream starting at
// start: <dir>/<stream>/<YYYY-MM-DD>/<start-unix-ms>.mp4, the date in loc.
func segmentPath(dir, sdir string, start time.Time, loc *time.Location) string {
	return filepath.Join(dir, sdir, start.In(loc).Format(dateLayout),
		strconv.FormatInt(start.UnixMilli(), 10)+segmentSuffix)
}

// parseSegmentPath returns the stream and start time encoded in a segment's
// path, final or part.
func parseSegmentPath(path string) (stream string, start time.Time, err error) {
	base := strings.TrimSuffix(filepath.Base(path), partSuffix)
	ms, ok := strings.CutSuffix(base, segmentSuffix)
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: %s", ErrBadName, path)
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n < 0 {
		return "", time.Time{}, fmt.Errorf("%w: %s", ErrBadName, path)
	}
	dateDir := filepath.Dir(path)
	if _, err := time.Parse(dateLayout, filepath.Base(dateDir)); err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %s", ErrBadName, path)
	}
	stream, err = url.PathUnescape(filepath.Base(filepath.Dir(dateDir)))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %s", ErrBadName, path)
	}
	return stream, time.UnixMilli(n), nil
}

// phase returns the stream's offset inside a segment period: where, modulo
// period, its segments are cut. Hashing the name spreads the cuts of many
// channels over the period instead of closing (and fsyncing, and indexing)
// every channel's segment in the same second.
func phase(stream string, period time.Duration) time.Duration {
	if period < time.Millisecond {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(stream))
	return time.Duration(h.Sum64()%uint64(period/time.Millisecond)) * time.Millisecond
}

// nextCut returns the first cut time of a segment starting at start: the
// first instant k*period+offset (Unix time) that leaves the segment at least a
// quarter of a period long. The first segment of a run is shorter or longer
// than period, so that the stream lands on its phase; later ones are period
// long (plus however late the next keyframe comes).
func nextCut(start time.Time, period, offset time.Duration) time.Time {
	min := start.Add(period / 4).UnixNano()
	p, o := int64(period), int64(offset)
	k := (min - o) / p
	if k*p+o < min {
		k++
	}
	return time.Unix(0, k*p+o)
}

// msTime rounds t to the millisecond, the precision of file names and of the
// database, and drops its monotonic reading.
func msTime(t time.Time) time.Time {
	return time.UnixMilli(t.Add(500 * time.Microsecond).UnixMilli())
}
