package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nvr/nvr/media/codec/isobmff"
)

// Errors returned by OpenExport.
var (
	// ErrNoMedia is returned when no segment holds media in the range.
	ErrNoMedia = errors.New("no recording in the range")
	// ErrIncompatible is returned when the segments of the range cannot be
	// joined in one file: a track's clock rate changed (an audio codec
	// change from 8 to 16 kHz, say). Export the parts separately.
	ErrIncompatible = errors.New("segments cannot be joined in one file")
)

// indexWorkers bounds how many segment indexes an export reads at once: a
// few keep a disk's queue busy, more only add seeks.
const indexWorkers = 8

// Export is a progressive MP4 of a time range of a stream, assembled from its
// segments without re-encoding and without copying: the head (ftyp, moov
// with complete sample tables, the mdat header) is built in memory from the
// segments' indexes, and the media bytes are read from the segment files
// when asked for. So its size and ETag are known at once, and any byte range
// costs one read per segment it spans: it is an io.ReaderAt for
// http.ServeContent (wrap it in an io.SectionReader).
//
// The file starts with the keyframe at or before the requested start, and
// edit lists make players begin at the start itself, with the duration
// end-start; a gap between segments becomes a longer last frame before it,
// so the timeline stays the wall clock's. Segments whose codec parameters
// differ get their own sample descriptions.
//
// Deleting a segment an Export reads breaks it: hold a lease (Leases) on the
// segments for as long as the export is served. Export is safe for
// concurrent use.
type Export struct {
	start, end time.Time
	size       int64
	etag       string
	head       []byte
	pieces     []piece
	paths      []string

	mu     sync.Mutex
	files  []*os.File
	closed bool
}

// piece maps a range of the export to a range of a segment file.
type piece struct {
	off  int64 // in the export
	n    int64
	file int
	src  int64 // in the file
}

// OpenExport prepares the export of [start, end) from segs, the segments of
// one stream (in any order; those outside the range are ignored). The range
// is clipped to the recordings: Start and End say what the file covers.
func OpenExport(segs []Segment, start, end time.Time) (*Export, error) {
	if !end.After(start) {
		return nil, fmt.Errorf("record: export: end %v is not after start %v", end, start)
	}
	var sel []Segment
	for _, s := range segs {
		if s.End.After(start) && s.Start.Before(end) {
			sel = append(sel, s)
		}
	}
	if len(sel) == 0 {
		return nil, ErrNoMedia
	}
	slices.SortFunc(sel, func(a, b Segment) int { return a.Start.Compare(b.Start) })
	idxs, err := openIndexes(sel)
	if err != nil {
		return nil, err
	}
	return buildExport(sel, idxs, start, end)
}

// openIndexes reads the indexes of segs, a few at a time.
func openIndexes(segs []Segment) ([]*segIndex, error) {
	out := make([]*segIndex, len(segs))
	errs := make([]error, len(segs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, indexWorkers)
	for i, s := range segs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = openIndex(s.Path)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("record: export: %w", err)
	}
	return out, nil
}

// segTracks is how an export's tracks map onto one segment's.
type segTracks struct {
	x       *segIndex
	out     []int // per segment track: export track, or -1
	sdi     []int // per segment track: sample description index in the export track
	refBase time.Duration
}

// wall returns the wall-clock time of decode time dts of segment track i,
// as an offset from origin.
func (st *segTracks) wall(origin time.Time, i int, dts uint64) time.Duration {
	ts := st.x.tracks[i].timescale
	return st.x.start.Sub(origin) + ticksToDuration(int64(dts), ts) - st.refBase
}

// buildExport lays the export out.
func buildExport(sel []Segment, idxs []*segIndex, start, end time.Time) (*Export, error) {
	// Export tracks: the first video and the first audio track of the
	// segments, by kind.
	var video, audio *outTrack
	maps := make([]*segTracks, len(idxs))
	for k, x := range idxs {
		st := &segTracks{x: x, out: make([]int, len(x.tracks)), sdi: make([]int, len(x.tracks))}
		maps[k] = st
		for i := range st.out {
			st.out[i] = -1
		}
		first, _, ok := x.refSpan()
		if !ok {
			continue
		}
		st.refBase = ticksToDuration(int64(first), x.tracks[x.ref].timescale)
		seenV, seenA := false, false
		for i, t := range x.tracks {
			var ot **outTrack
			switch {
			case t.video && !seenV:
				ot, seenV = &video, true
			case !t.video && !seenA:
				ot, seenA = &audio, true
			default:
				continue
			}
			if *ot == nil {
				*ot = &outTrack{video: t.video, timescale: t.timescale, width: t.width, height: t.height}
			}
			o := *ot
			if o.timescale != t.timescale {
				return nil, fmt.Errorf("%w: %s has a %d Hz track after %d Hz", ErrIncompatible, x.path, t.timescale, o.timescale)
			}
			st.sdi[i] = entryIndex(o, t.entry)
			if t.video {
				st.out[i] = 0
			} else {
				st.out[i] = 1
			}
		}
	}
	tracks := []*outTrack{video, audio}

	// The covered range: the request clipped to the recordings.
	origin := idxs[0].start
	if start.Before(origin) {
		start = origin
	}
	last := idxs[len(idxs)-1]
	if e := last.start.Add(last.duration()); end.After(e) {
		end = e
	}
	if !end.After(start) {
		return nil, ErrNoMedia
	}
	startW, endW := start.Sub(origin), end.Sub(origin)

	// T0, where the file starts: the video keyframe at or before start (or,
	// without video, the audio sample at or before it).
	kind := 0
	if video == nil {
		kind = 1
	}
	t0, ok := findStart(maps, origin, kind, startW)
	if !ok {
		return nil, ErrNoMedia
	}

	// Room for every sample of the segments: an hour of video and audio is
	// a quarter of a million.
	var nSamples, nChunks [2]int
	for _, st := range maps {
		for _, f := range st.x.frags {
			for _, r := range f.runs {
				if oi := st.out[r.track]; oi >= 0 {
					nSamples[oi] += len(r.samples)
					nChunks[oi]++
				}
			}
		}
	}
	for i, o := range tracks {
		if o != nil {
			o.samples = make([]outSample, 0, nSamples[i])
			o.chunks = make([]outChunk, 0, nChunks[i])
		}
	}

	// Walk the samples from T0 to end in file order, making one chunk per
	// run and one piece per chunk.
	var pieces []piece
	var payload int64
	for k, st := range maps {
		for _, f := range st.x.frags {
			for _, r := range f.runs {
				oi := st.out[r.track]
				if oi < 0 || tracks[oi] == nil {
					continue
				}
				o := tracks[oi]
				dts := r.base
				src := r.dataOff
				first := -1
				var bytes int64
				for _, s := range r.samples {
					w := st.wall(origin, r.track, dts)
					dts += uint64(s.dur)
					if w < t0 {
						src += int64(s.size)
						continue
					}
					if w >= endW {
						break
					}
					if first < 0 {
						first = len(o.samples)
					}
					o.samples = append(o.samples, outSample{
						dts:     durationToTicks(w-t0, o.timescale),
						dur:     s.dur,
						size:    s.size,
						cts:     s.cts,
						nonSync: s.nonSync,
					})
					bytes += int64(s.size)
				}
				if first < 0 {
					continue
				}
				o.chunks = append(o.chunks, outChunk{first: first, n: len(o.samples) - first, sdi: st.sdi[r.track], off: payload})
				if n := len(pieces) - 1; n >= 0 && pieces[n].file == k && pieces[n].src+pieces[n].n == src {
					pieces[n].n += bytes // the next run follows in the same file
				} else {
					pieces = append(pieces, piece{off: payload, n: bytes, file: k, src: src})
				}
				payload += bytes
			}
		}
	}

	var out []*outTrack
	for _, o := range tracks {
		if o == nil || len(o.samples) == 0 {
			continue
		}
		timeline(o, durationToTicks(endW-t0, o.timescale))
		edit(o, startW-t0, endW-startW)
		out = append(out, o)
	}
	if len(out) == 0 {
		return nil, ErrNoMedia
	}
	duration := uint64(durationToTicks(endW-startW, movieTimescale))
	head := buildHead(out, duration, payload)
	for i := range pieces {
		pieces[i].off += int64(len(head))
	}

	e := &Export{
		start:  start,
		end:    end,
		size:   int64(len(head)) + payload,
		head:   head,
		pieces: pieces,
		paths:  make([]string, len(idxs)),
		files:  make([]*os.File, len(idxs)),
	}
	h := sha256.New()
	fmt.Fprintf(h, "nvr-export/1 %d %d", start.UnixNano(), end.UnixNano())
	for k, x := range idxs {
		e.paths[k] = x.path
		fmt.Fprintf(h, " %d %q %d", sel[k].ID, x.path, x.size)
	}
	e.etag = `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
	return e, nil
}

// entryIndex returns the sample description index of a sample entry in an
// export track, adding it when new.
func entryIndex(o *outTrack, entry []byte) int {
	for i, e := range o.entries {
		if bytes.Equal(e, entry) {
			return i + 1
		}
	}
	o.entries = append(o.entries, entry)
	return len(o.entries)
}

// findStart returns the wall-clock offset of the last sync sample of the
// given kind (0 video, 1 audio) at or before at, or of the first one when
// none is before.
func findStart(maps []*segTracks, origin time.Time, kind int, at time.Duration) (time.Duration, bool) {
	var best time.Duration
	found := false
	for _, st := range maps {
		for _, f := range st.x.frags {
			for _, r := range f.runs {
				if st.out[r.track] != kind {
					continue
				}
				dts := r.base
				for _, s := range r.samples {
					w := st.wall(origin, r.track, dts)
					dts += uint64(s.dur)
					if s.nonSync {
						continue
					}
					if w > at && found {
						return best, true
					}
					best, found = w, true
					if w > at {
						return best, true
					}
				}
			}
		}
	}
	return best, found
}

// timeline turns the samples' wall-clock decode times into durations: each
// sample lasts until the next (so a gap between segments becomes a longer
// sample and the tracks stay in step with the wall clock), the last one its
// own duration, cut at end.
func timeline(o *outTrack, end int64) {
	s := o.samples
	for i := 1; i < len(s); i++ {
		if s[i].dts <= s[i-1].dts {
			s[i].dts = s[i-1].dts + 1 // overlapping segments: keep time moving
		}
		s[i-1].dur = uint32(min(s[i].dts-s[i-1].dts, math.MaxUint32))
	}
	l := &s[len(s)-1]
	if d := end - l.dts; d > 0 && d < int64(l.dur) {
		l.dur = uint32(d)
	}
	if l.dur == 0 {
		l.dur = 1
	}
}

// edit sets the edit list that presents the track from start (from T0) for
// duration.
func edit(o *outTrack, start, duration time.Duration) {
	total := uint64(durationToTicks(duration, movieTimescale))
	first := o.samples[0].dts // where the track's media begin, from T0
	at := durationToTicks(start, o.timescale)
	if first <= at {
		// Skip the media before start; a video keyframe's composition
		// offset moves its presentation.
		o.edits = []editEntry{{dur: total, mediaTime: at - first + int64(o.samples[0].cts)}}
		return
	}
	// The track begins after start (audio that starts after the keyframe):
	// nothing is presented until it does.
	empty := uint64(durationToTicks(ticksToDuration(first-at, o.timescale), movieTimescale))
	if empty >= total {
		empty = total
	}
	o.edits = []editEntry{{dur: empty, mediaTime: -1}}
	if total > empty {
		o.edits = append(o.edits, editEntry{dur: total - empty, mediaTime: int64(o.samples[0].cts)})
	}
}

// durationToTicks converts a duration to ticks of a clock, rounding to the
// nearest tick.
func durationToTicks(d time.Duration, rate uint32) int64 {
	neg := d < 0
	if neg {
		d = -d
	}
	v := int64(isobmff.Ticks(d, rate))
	if neg {
		return -v
	}
	return v
}

// Size returns the size of the export in bytes.
func (e *Export) Size() int64 { return e.size }

// ETag returns a strong entity tag (quoted) naming the export's content: it
// changes when the range or any segment (its ID, path or size) does.
func (e *Export) ETag() string { return e.etag }

// Start and End return the range the export covers: the requested one,
// clipped to the recordings.
func (e *Export) Start() time.Time { return e.start }

// End: see Start.
func (e *Export) End() time.Time { return e.end }

// ReadAt implements io.ReaderAt over the export's bytes.
func (e *Export) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("record: export: negative offset")
	}
	n := 0
	for n < len(p) && off < e.size {
		if off < int64(len(e.head)) {
			c := copy(p[n:], e.head[off:])
			n += c
			off += int64(c)
			continue
		}
		i := sort.Search(len(e.pieces), func(i int) bool { return e.pieces[i].off+e.pieces[i].n > off })
		if i == len(e.pieces) {
			break
		}
		pc := e.pieces[i]
		f, err := e.file(pc.file)
		if err != nil {
			return n, err
		}
		want := min(int64(len(p)-n), pc.off+pc.n-off)
		c, err := f.ReadAt(p[n:n+int(want)], pc.src+off-pc.off)
		n += c
		off += int64(c)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("record: export: %s is shorter than its index: %w", e.paths[pc.file], io.ErrUnexpectedEOF)
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// file returns segment file i, opening it on first use.
func (e *Export) file(i int) (*os.File, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, os.ErrClosed
	}
	if e.files[i] == nil {
		f, err := os.Open(e.paths[i])
		if err != nil {
			return nil, fmt.Errorf("record: export: %w", err)
		}
		e.files[i] = f
	}
	return e.files[i], nil
}

// Close closes the segment files. Reads after Close fail.
func (e *Export) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	var errs []error
	for i, f := range e.files {
		if f != nil {
			errs = append(errs, f.Close())
			e.files[i] = nil
		}
	}
	return errors.Join(errs...)
}
