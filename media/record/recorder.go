package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// Defaults for Recorder fields left zero.
const (
	// DefaultSegmentDuration is the length of a segment. A minute keeps the
	// index small (43,200 rows per channel and month) while losing at most a
	// minute to a crash before Recover, and exports cheap to assemble.
	DefaultSegmentDuration = time.Minute
	// DefaultFragmentDuration is the most media a fragment holds; fragments
	// also end at every keyframe. It is what a crash or a slow disk loses at
	// most, and the unit an export or a playlist can address.
	DefaultFragmentDuration = time.Second
	// DefaultGapTimeout is how long the source may send nothing before the
	// segment is closed, so that an outage shows as a gap between segments.
	DefaultGapTimeout = 5 * time.Second
	// DefaultQueueBytes bounds the fragments waiting for the disk: about 30 s
	// of a 2 Mbit/s stream.
	DefaultQueueBytes = 8 << 20
)

// Internal limits.
const (
	// maxFragmentBytes ends a fragment early: a camera that sends no
	// keyframe for a long time must not make one fragment unbounded.
	maxFragmentBytes = 8 << 20
	// maxClockDrift is how far a segment that follows the previous one
	// without a gap may start from its first unit's wall-clock time before
	// the wall clock wins. Below it, the new segment starts exactly where the
	// old one ended, so that the timeline has no seams.
	maxClockDrift = time.Second
)

// Recorder records one stream into segment files. It reads the stream in its
// own goroutine and writes from its own bounded queue in another, so a slow
// disk never holds up the stream: when the writer falls behind, whole
// fragments are dropped (Stats.DroppedFragments, logged at a limited rate)
// and the segment ends there, the next one starting at the next keyframe.
//
// Segments are cut at the first keyframe after their planned end (see
// DefaultSegmentDuration), when the codec parameters change, after a gap in
// the source (nothing for GapTimeout, or a jump of unit wall-clock times by
// more than GapTimeout) and when the recorder falls so far behind that the
// stream reader skips units. A segment is <Dir>/<stream>/<YYYY-MM-DD>/<start
// Unix ms>.mp4; while open it is written as the same name plus ".part".
//
// Set the fields, call Initialize, then Close to stop.
type Recorder struct {
	// Stream is the stream to record.
	Stream *stream.Stream
	// Dir is the recordings directory.
	Dir string
	// SegmentDuration is the planned length of a segment (0: DefaultSegmentDuration).
	SegmentDuration time.Duration
	// FragmentDuration is the most media in a fragment (0: DefaultFragmentDuration).
	FragmentDuration time.Duration
	// GapTimeout is the silence after which a segment is closed (0: DefaultGapTimeout).
	GapTimeout time.Duration
	// QueueBytes bounds the bytes waiting for the disk (0: DefaultQueueBytes).
	QueueBytes int
	// Location is the time zone of the date directories (nil: time.Local).
	Location *time.Location
	// OnSegment is called when a segment was closed and renamed, from the
	// writer goroutine, in order. The caller indexes it; a slow OnSegment
	// delays writing and may make fragments drop.
	OnSegment func(Segment)
	// OpenFile creates a segment file (nil: os.OpenFile). Tests inject slow
	// or failing files here.
	OpenFile func(name string) (File, error)
	// Logger receives the recorder's logs (nil: discarded).
	Logger *slog.Logger

	log          *slog.Logger
	sdir         string
	offset       time.Duration
	queue        *queue
	cancel       context.CancelFunc
	done         chan struct{}
	closeOnce    sync.Once
	writeProblem *problemLog
	dropProblem  *problemLog
	current      atomic.Pointer[string]
	stats        counters
}

// counters are the recorder's statistics.
type counters struct {
	units, segments, fragments, bytes     atomic.Uint64
	droppedFragments, droppedUnits, skips atomic.Uint64
	gaps, writeErrors                     atomic.Uint64
}

// Stats is a snapshot of a recorder's counters.
type Stats struct {
	// Units read from the stream.
	Units uint64
	// Segments closed and reported.
	Segments uint64
	// Fragments and bytes written.
	Fragments, Bytes uint64
	// DroppedFragments counts fragments not written because the writer fell
	// behind (a slow disk).
	DroppedFragments uint64
	// DroppedUnits counts units not recorded: before the first keyframe,
	// after a gap or a drop until the next keyframe, audio whose parameters
	// changed until the next keyframe.
	DroppedUnits uint64
	// Skipped counts units the stream reader skipped because the recorder
	// fell a whole ring behind.
	Skipped uint64
	// Gaps counts segments ended by a gap in the source.
	Gaps uint64
	// WriteErrors counts failed file operations.
	WriteErrors uint64
	// QueuedBytes is what waits for the disk now.
	QueuedBytes int
	// Current is the final path of the segment being written, or "".
	Current string
}

// Initialize checks the fields and starts recording.
func (r *Recorder) Initialize() error {
	if r.Stream == nil {
		return errors.New("record: Stream is required")
	}
	if r.Dir == "" {
		return errors.New("record: Dir is required")
	}
	sdir, err := streamDir(r.Stream.Name())
	if err != nil {
		return err
	}
	r.sdir = sdir
	if r.SegmentDuration <= 0 {
		r.SegmentDuration = DefaultSegmentDuration
	}
	if r.FragmentDuration <= 0 {
		r.FragmentDuration = DefaultFragmentDuration
	}
	if r.GapTimeout <= 0 {
		r.GapTimeout = DefaultGapTimeout
	}
	if r.QueueBytes <= 0 {
		r.QueueBytes = DefaultQueueBytes
	}
	if r.Location == nil {
		r.Location = time.Local
	}
	if r.OpenFile == nil {
		r.OpenFile = createFile
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.log = log.With("component", "recorder", "stream", r.Stream.Name())
	r.writeProblem = &problemLog{log: r.log, msg: "cannot write segment"}
	r.dropProblem = &problemLog{log: r.log, msg: "disk too slow, fragments dropped"}
	r.offset = phase(r.Stream.Name(), r.SegmentDuration)
	r.queue = newQueue(r.QueueBytes)
	r.done = make(chan struct{})

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	rd := r.Stream.NewReader()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		r.runWriter()
	}()
	go func() {
		defer close(r.done)
		r.runReader(ctx, rd)
		rd.Close()
		r.queue.close()
		<-writerDone
	}()
	return nil
}

// Close stops recording: the open segment is closed and reported, queued
// fragments are written, then Close returns.
func (r *Recorder) Close() {
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
	})
	if r.done != nil {
		<-r.done
	}
}

// Done is closed when the recorder stopped, after Close or when the stream
// ended, with every segment closed and reported. Call it after Initialize.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Stats returns the recorder's counters (zero before Initialize).
func (r *Recorder) Stats() Stats {
	if r.queue == nil {
		return Stats{}
	}
	st := Stats{
		Units:            r.stats.units.Load(),
		Segments:         r.stats.segments.Load(),
		Fragments:        r.stats.fragments.Load(),
		Bytes:            r.stats.bytes.Load(),
		DroppedFragments: r.stats.droppedFragments.Load(),
		DroppedUnits:     r.stats.droppedUnits.Load(),
		Skipped:          r.stats.skips.Load(),
		Gaps:             r.stats.gaps.Load(),
		WriteErrors:      r.stats.writeErrors.Load(),
		QueuedBytes:      r.queue.size(),
	}
	if p := r.current.Load(); p != nil {
		st.Current = *p
	}
	return st
}

// runWriter writes what the queue holds until it is closed and empty.
func (r *Recorder) runWriter() {
	w := &segmentWriter{r: r}
	for {
		j, ok := r.queue.get()
		if !ok {
			w.finish()
			return
		}
		w.do(j)
		if j.frag != nil {
			r.queue.done(len(j.frag.data))
		}
	}
}

// runReader reads the stream until it ends or ctx is cancelled.
func (r *Recorder) runReader(ctx context.Context, rd *stream.Reader) {
	s := &session{r: r, lastParams: map[int]*unit.Params{}}
	defer s.closeSegment(false)
	skipped := rd.Dropped()
	for {
		rctx, cancel := ctx, context.CancelFunc(nil)
		if s.mux != nil {
			// While a segment is open, silence longer than GapTimeout ends it.
			rctx, cancel = context.WithTimeout(ctx, r.GapTimeout)
		}
		units, err := rd.Read(rctx)
		if cancel != nil {
			cancel()
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				s.gap("no media for " + r.GapTimeout.String())
				continue
			}
			return
		}
		if d := rd.Dropped(); d != skipped {
			// The reader fell a ring behind and skipped to a keyframe: what
			// was skipped is not in the segment, so end it there.
			r.stats.skips.Add(d - skipped)
			skipped = d
			s.gap("recorder fell behind the stream")
		}
		for _, u := range units {
			s.unit(u)
		}
		r.stats.units.Add(uint64(len(units)))
	}
}

// session is the reading goroutine's state: the open segment, if any.
type session struct {
	r          *Recorder
	mux        *muxer
	seg        *openSegment
	cutAt      time.Time // planned end of the segment
	forceCut   bool      // cut at the next keyframe (audio parameters changed)
	lastParams map[int]*unit.Params
	lastTime   time.Time // wall-clock time of the last unit
	prevEnd    time.Time // end of the previous segment, if it ended without a gap
	lastEnd    time.Time // end of the previous segment, gap or not
	refFirst   uint64
	refEnd     uint64
	hasRef     bool
}

// unit records one unit.
func (s *session) unit(u *unit.Unit) {
	r := s.r
	if u.Params == nil {
		return
	}
	if !s.lastTime.IsZero() && u.Time.Sub(s.lastTime) > r.GapTimeout {
		s.gap(fmt.Sprintf("units %v apart", u.Time.Sub(s.lastTime).Round(time.Millisecond)))
	}
	s.lastTime = u.Time
	s.lastParams[u.Track] = u.Params

	if s.mux == nil {
		s.open(u)
		return
	}
	t := s.mux.track(u.Track)
	if t == nil {
		if s.mux.wouldStore(u.Params) {
			// A track appeared that the segment would store.
			s.paramsChanged(u, u.Params.Codec.IsVideo())
		}
		return
	}
	if t.params != u.Params {
		if t.params.Equal(u.Params) {
			t.params = u.Params // a publisher restart with the same codec
		} else {
			s.paramsChanged(u, t.video)
			return
		}
	}

	if t == s.mux.ref {
		if (u.Key || !t.video) && (s.forceCut || !s.wallTime(u).Before(s.cutAt)) {
			s.cut(u)
			return
		}
		if (u.Key && t.video) || s.mux.fragmentAge(u) >= r.FragmentDuration || s.mux.fragmentBytes() >= maxFragmentBytes {
			f, err := s.mux.flushBefore(t, u)
			if !s.enqueue(f, err) {
				s.open(u)
				return
			}
		}
	}
	s.mux.add(t, u)
}

// wallTime returns the wall-clock time of a unit of the open segment.
func (s *session) wallTime(u *unit.Unit) time.Time {
	return s.seg.start.Add(s.mux.mediaTime(u))
}

// paramsChanged handles a unit whose codec parameters differ from the
// segment's. Video: the segment ends before it, and the next starts with it
// if it is a keyframe. Audio, while video goes on: the audio is dropped
// until the next keyframe, where the segment is cut, so no video is lost.
func (s *session) paramsChanged(u *unit.Unit, video bool) {
	if !video && s.mux.video != nil {
		s.forceCut = true
		s.r.stats.droppedUnits.Add(1)
		return
	}
	s.r.log.Info("codec parameters changed, new segment", "track", u.Track, "params", u.Params.String())
	s.cut(u)
}

// cut ends the segment right before u and starts the next with u.
func (s *session) cut(u *unit.Unit) {
	var f *fragment
	var err error
	if t := s.mux.track(u.Track); t != nil {
		f, err = s.mux.flushBefore(t, u)
	} else {
		f, err = s.mux.flush()
	}
	if s.enqueue(f, err) {
		s.closeSegment(true)
	}
	s.open(u)
}

// gap ends the segment because the source paused or units were lost; the
// next segment starts at the next keyframe and is not joined to this one.
func (s *session) gap(why string) {
	if s.mux == nil {
		s.prevEnd = time.Time{}
		return
	}
	s.r.stats.gaps.Add(1)
	s.r.log.Debug("gap in the source, segment closed", "reason", why)
	s.closeSegment(false)
}

// closeSegment writes what is pending and closes the segment. joined says
// that the next segment follows without a gap.
func (s *session) closeSegment(joined bool) {
	if s.mux == nil {
		return
	}
	if !s.enqueue(s.mux.flush()) {
		return // enqueue closed it
	}
	s.r.queue.put(job{seg: s.seg})
	s.prevEnd = time.Time{}
	if s.hasRef {
		s.lastEnd = segmentEnd(s.seg.start, s.refFirst, s.refEnd, s.seg.refRate)
		if joined {
			s.prevEnd = s.lastEnd
		}
	}
	s.mux, s.seg, s.forceCut = nil, nil, false
}

// abandon closes the segment where the writer has it, without what is
// pending: after a dropped fragment or a muxing error.
func (s *session) abandon() {
	s.r.queue.put(job{seg: s.seg})
	if s.hasRef {
		// At most this: the writer may have lost the last fragments.
		s.lastEnd = segmentEnd(s.seg.start, s.refFirst, s.refEnd, s.seg.refRate)
	}
	s.mux, s.seg, s.forceCut, s.prevEnd = nil, nil, false, time.Time{}
}

// enqueue hands a fragment to the writer. When the queue is full the
// fragment is dropped and the segment closed there, and enqueue returns
// false: the caller then waits for a keyframe to start the next one.
func (s *session) enqueue(f *fragment, err error) bool {
	if err != nil {
		s.r.writeProblem.warn("path", s.seg.path, "err", err)
		s.r.stats.writeErrors.Add(1)
		s.abandon()
		return false
	}
	if f == nil {
		return true
	}
	if !s.r.queue.put(job{seg: s.seg, frag: f}) {
		s.r.stats.droppedFragments.Add(1)
		s.r.dropProblem.warn("queued_bytes", s.r.queue.size())
		// What follows the dropped fragment cannot be decoded without it:
		// end the segment before the hole.
		s.abandon()
		return false
	}
	if f.hasRef {
		if !s.hasRef {
			s.refFirst, s.hasRef = f.refBase, true
		}
		s.refEnd = max(s.refEnd, f.refEnd)
	}
	return true
}

// open starts a segment with u if u can start one: a video keyframe, or any
// unit of a stream without video. Otherwise u is dropped.
func (s *session) open(u *unit.Unit) {
	r := s.r
	params := r.Stream.Tracks()
	for len(params) <= u.Track {
		params = append(params, nil)
	}
	// The parameters of the units seen win over the stream's newest ones,
	// which may be ahead of the units this reader is at.
	for i, p := range s.lastParams {
		if i < len(params) {
			params[i] = p
		}
	}
	params[u.Track] = u.Params
	hasVideo := false
	for _, p := range params {
		if p != nil && p.Codec.IsVideo() && recordable(p) {
			hasVideo = true
		}
	}
	isVideo := u.Params.Codec.IsVideo()
	if !recordable(u.Params) || hasVideo && (!isVideo || !u.Key) {
		r.stats.droppedUnits.Add(1)
		return
	}
	m, err := newMuxer(params)
	if err != nil {
		r.stats.droppedUnits.Add(1)
		r.writeProblem.warn("err", err)
		return
	}
	init, err := m.init()
	if err != nil {
		r.stats.droppedUnits.Add(1)
		r.writeProblem.warn("err", err)
		return
	}
	t := m.track(u.Track)
	if t != m.ref {
		r.stats.droppedUnits.Add(1)
		return
	}
	start := msTime(u.Time)
	if !s.prevEnd.IsZero() && absDuration(u.Time.Sub(s.prevEnd)) <= maxClockDrift {
		start = s.prevEnd
	}
	if start.Before(s.lastEnd) {
		// The previous segment's media ran ahead of the wall clock (a source
		// that delivered a burst after a stall, a camera clock running fast):
		// segments never overlap, or the timeline and exports would go back.
		start = s.lastEnd
	}
	s.mux = m
	s.seg = &openSegment{
		stream:  r.Stream.Name(),
		path:    segmentPath(r.Dir, r.sdir, start, r.Location),
		start:   start,
		init:    init,
		codecs:  m.codecs(),
		refRate: m.ref.timescale,
	}
	s.cutAt = nextCut(start, r.SegmentDuration, r.offset)
	s.forceCut, s.hasRef, s.refEnd = false, false, 0
	m.add(t, u)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
