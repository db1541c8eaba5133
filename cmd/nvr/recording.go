package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/record"
	"github.com/nvr/nvr/storage"
)

// Timing of the recording manager.
const (
	// scheduleTick is how often schedules are evaluated and write rates sampled: a schedule
	// starts or stops recording within this of its boundary.
	scheduleTick = 5 * time.Second
	// recordBackoffMin and recordBackoffMax bound the wait before a recorder acquires its
	// stream again after a failure (a dead camera, a refused INVITE) or the end of the stream
	// (a device's BYE). The wait doubles, with jitter, while failures go on.
	recordBackoffMin = time.Second
	recordBackoffMax = 10 * time.Second
	// recordStable is how long a recorder must have run for its next failure to start the
	// backoff from the minimum again.
	recordStable = time.Minute
	// retentionBatch is how many index rows retention reads per query.
	retentionBatch = 1000
	// retentionRounds bounds the batches of one retention pass, so that a pass ends even when
	// the file system does not report the space it frees.
	retentionRounds = 100
	// recentDays is how many of each stream's newest date directories start-up searches for
	// part files and for segments the index missed: the directory of the segment open at the
	// crash, and the one before it.
	recentDays = 2
	// indexTimeout bounds one index write of a closed segment; the writer goroutine waits for
	// it.
	indexTimeout = 10 * time.Second
)

// recordings records channels and keeps the recordings: it holds each recorded channel's stream
// open through the hub (so it runs without viewers, and a GB28181 channel is INVITEd again after
// its source ended), runs a media/record.Recorder on it, indexes the segments it closes, evaluates
// schedules, and runs retention. It implements web.Recordings.
type recordings struct {
	db           *storage.DB
	hub          *hub.Hub
	dir          string
	segment      time.Duration
	maxAge       time.Duration // for channels whose policy sets none
	maxBytes     int64
	minFreeBytes int64
	interval     time.Duration
	log          *slog.Logger
	baseLog      *slog.Logger // for recorders, which tag their own component

	leases record.Leases
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // runs retention now

	mu       sync.Mutex
	policies map[int64]*channelPolicy
	workers  map[int64]*recordWorker
	pending  []*device.Recording // segments whose indexing failed, retried by retention
	closed   bool
	// stats of recorders that ended, per channel, so the counters survive a restart of the
	// stream.
	past map[int64]record.Stats
}

// channelPolicy is a policy with its schedule parsed.
type channelPolicy struct {
	device.RecordingPolicy
	schedule device.RecordingSchedule
}

// wants reports whether the policy records at t.
func (p *channelPolicy) wants(t time.Time) bool {
	switch p.Mode {
	case device.RecordContinuous:
		return true
	case device.RecordSchedule:
		return p.schedule.Active(t)
	}
	return false
}

// startRecording recovers what a crash left, indexes it, loads the policies and starts the
// recorders, the scheduler and retention. It runs after the device service registered the
// channels' streams with the hub.
func (a *app) startRecording(ctx context.Context) error {
	c := a.cfg.Recording
	dir := c.Dir
	if dir == "" {
		dir = filepath.Join(a.cfg.DataDir, "recordings")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("recording.dir: %w", err)
	}
	m := &recordings{
		db: a.db, hub: a.hub, dir: dir,
		segment: c.SegmentDuration.Std(), maxAge: c.MaxAge.Std(), maxBytes: c.MaxBytes, minFreeBytes: c.MinFreeBytes,
		interval: c.CheckInterval.Std(), log: a.log.With("component", "recording"), baseLog: a.log,
		kick: make(chan struct{}, 1), policies: map[int64]*channelPolicy{}, workers: map[int64]*recordWorker{},
		past: map[int64]record.Stats{},
	}
	if err := m.indexRecent(ctx); err != nil {
		return err
	}
	ps, err := a.db.ListRecordingPolicies(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		cp, err := parsePolicy(p)
		if err != nil {
			m.log.Warn("recording policy ignored", "channel_id", p.ChannelID, "error", err)
			continue
		}
		m.policies[p.ChannelID] = cp
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.apply()
	m.wg.Add(1)
	go m.run()
	a.rec = m
	m.log.Info("recording", "dir", dir, "policies", len(ps), "segment_duration", m.segment,
		"max_age", m.maxAge, "max_bytes", m.maxBytes, "min_free_bytes", m.minFreeBytes)
	return nil
}

func parsePolicy(p device.RecordingPolicy) (*channelPolicy, error) {
	s, err := device.ParseRecordingSchedule(p.Schedule)
	if err != nil {
		return nil, err
	}
	return &channelPolicy{RecordingPolicy: p, schedule: s}, nil
}

// Close stops every recorder (their open segments are closed and indexed) and the loops.
func (m *recordings) Close() {
	m.mu.Lock()
	m.closed = true
	workers := m.workers
	m.workers = map[int64]*recordWorker{}
	m.mu.Unlock()
	m.cancel()
	for _, w := range workers {
		w.stop()
	}
	m.wg.Wait()
}

// run evaluates schedules and samples write rates every scheduleTick, and runs retention every
// interval (and when kicked).
func (m *recordings) run() {
	defer m.wg.Done()
	m.retain(m.ctx)
	tick := time.NewTicker(scheduleTick)
	defer tick.Stop()
	retain := time.NewTicker(m.interval)
	defer retain.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-tick.C:
			m.apply()
			m.sampleRates()
		case <-retain.C:
			m.retain(m.ctx)
		case <-m.kick:
			m.retain(m.ctx)
		}
	}
}

// apply starts the recorders policies want now and stops the others.
func (m *recordings) apply() {
	now := time.Now()
	var stop []*recordWorker
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for id, p := range m.policies {
		if p.wants(now) && m.workers[id] == nil {
			w := &recordWorker{m: m, channelID: id, stream: "ch" + strconv.FormatInt(id, 10), done: make(chan struct{})}
			m.workers[id] = w
			w.start()
		}
	}
	for id, w := range m.workers {
		if p := m.policies[id]; p == nil || !p.wants(now) {
			delete(m.workers, id)
			stop = append(stop, w)
		}
	}
	m.mu.Unlock()
	for _, w := range stop {
		w.stop()
	}
}

// forget drops a channel that no longer exists: its policy and its worker.
func (m *recordings) forget(id int64, w *recordWorker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.policies, id)
	if m.workers[id] == w {
		delete(m.workers, id)
	}
}

// maxAgeOf returns how long the recordings of a stream are kept (0: no limit).
func (m *recordings) maxAgeOf(stream string) time.Duration {
	id, ok := channelOfStream(stream)
	if !ok {
		return m.maxAge
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.policies[id]; p != nil && p.MaxAge > 0 {
		return p.MaxAge
	}
	return m.maxAge
}

// channelOfStream returns the channel ID of a stream name "ch<id>".
func channelOfStream(stream string) (int64, bool) {
	v, ok := strings.CutPrefix(stream, "ch")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}

// index stores a closed segment of a channel. A channel deleted meanwhile takes its file with
// it; a failed write is retried by retention, and at the latest by the next start-up.
func (m *recordings) index(channelID int64, seg record.Segment) {
	r := recordingOf(channelID, seg)
	ctx, cancel := context.WithTimeout(context.Background(), indexTimeout)
	defer cancel()
	err := m.db.AddRecording(ctx, r)
	switch {
	case err == nil, errors.Is(err, device.ErrConflict):
	case errors.Is(err, device.ErrNotFound):
		m.log.Info("channel deleted while recording, segment removed", "channel_id", channelID, "path", seg.Path)
		os.Remove(seg.Path)
	default:
		m.log.Warn("cannot index segment, will retry", "channel_id", channelID, "path", seg.Path, "error", err)
		m.mu.Lock()
		m.pending = append(m.pending, r)
		m.mu.Unlock()
	}
}

func recordingOf(channelID int64, s record.Segment) *device.Recording {
	return &device.Recording{ChannelID: channelID, Stream: s.Stream, Start: s.Start, End: s.End, Bytes: s.Bytes, Codecs: s.Codecs, Path: s.Path}
}

// indexRecent runs before any recorder: it finishes the part files a crash left (Recover), and
// indexes every closed segment of the newest date directories the index does not know (the
// recovered ones, and any whose indexing a crash cut short). Files of deleted channels go.
func (m *recordings) indexRecent(ctx context.Context) error {
	recovered, err := record.RecoverRecent(m.dir, recentDays)
	if err != nil {
		m.log.Warn("recovering segments", "error", err)
	}
	for _, s := range recovered {
		m.log.Info("segment recovered after a crash", "stream", s.Stream, "path", s.Path, "start", s.Start, "end", s.End)
	}
	files, err := record.RecentSegmentFiles(m.dir, recentDays)
	if err != nil {
		m.log.Warn("listing recent segments", "error", err)
	}
	var add []*device.Recording
	for i := 0; i < len(files); {
		j := i
		for j < len(files) && files[j].Stream == files[i].Stream {
			j++
		}
		group := files[i:j]
		i = j
		id, ok := channelOfStream(group[0].Stream)
		if !ok {
			continue // not a channel's directory
		}
		if _, err := m.db.Channel(ctx, id); errors.Is(err, device.ErrNotFound) {
			for _, f := range group {
				os.Remove(f.Path)
			}
			m.log.Info("segments of a deleted channel removed", "stream", group[0].Stream, "files", len(group))
			continue
		} else if err != nil {
			return err
		}
		first, last := group[0].Start, group[len(group)-1].Start
		known, err := m.db.RecordingFiles(ctx, id, first, last.Add(time.Millisecond))
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(known))
		for _, k := range known {
			have[k.Path] = true
		}
		for _, f := range group {
			if have[f.Path] {
				continue
			}
			seg, err := record.ReadSegment(f.Path)
			if err != nil {
				m.log.Warn("unreadable segment left as it is", "path", f.Path, "error", err)
				continue
			}
			add = append(add, recordingOf(id, seg))
		}
	}
	if len(add) == 0 {
		return nil
	}
	if err := m.db.AddRecordings(ctx, add); err != nil {
		return fmt.Errorf("indexing recovered segments: %w", err)
	}
	m.log.Info("segments indexed at start-up", "count", len(add), "recovered", len(recovered))
	return nil
}

// retain runs one retention pass: orphaned files, pending index writes, then the age, quota and
// free-space rules, oldest segments first, leased ones kept.
func (m *recordings) retain(ctx context.Context) {
	m.removeOrphans(ctx)
	m.retryPending(ctx)
	rule := record.Retention{MaxAge: m.maxAgeOf, MaxBytes: m.maxBytes, MinFreeBytes: m.minFreeBytes, Leases: &m.leases}
	for round := 0; round < retentionRounds && ctx.Err() == nil; round++ {
		used, _, err := m.db.RecordingBytesTotal(ctx)
		if err != nil {
			m.log.Warn("retention: reading usage", "error", err)
			return
		}
		free, err := record.FreeBytes(m.dir)
		if err != nil {
			free = -1
		}
		u := record.Usage{TotalBytes: used, FreeBytes: free}
		now := time.Now()
		var cands []record.Segment
		if m.maxBytes > 0 && used > m.maxBytes || m.minFreeBytes > 0 && free >= 0 && free < m.minFreeBytes {
			old, err := m.db.OldestRecordings(ctx, retentionBatch)
			if err != nil {
				m.log.Warn("retention: listing oldest recordings", "error", err)
				return
			}
			cands = appendSegments(cands, old)
		}
		for _, id := range m.agedChannels() {
			age := m.maxAgeOf("ch" + strconv.FormatInt(id, 10))
			exp, err := m.db.ExpiredRecordings(ctx, id, now.Add(-age), retentionBatch)
			if err != nil {
				m.log.Warn("retention: listing expired recordings", "channel_id", id, "error", err)
				return
			}
			cands = appendSegments(cands, exp)
		}
		plan := rule.Plan(now, cands, u)
		if len(plan) == 0 {
			return
		}
		gone, err := record.DeleteFiles(plan, &m.leases)
		if err != nil {
			m.log.Warn("retention: deleting files", "error", err)
		}
		if len(gone) == 0 {
			return
		}
		ids := make([]int64, len(gone))
		var bytes int64
		for i, s := range gone {
			ids[i] = s.ID
			bytes += s.Bytes
		}
		if _, err := m.db.DeleteRecordings(ctx, ids); err != nil {
			m.log.Warn("retention: deleting index rows", "error", err)
			return
		}
		m.log.Info("retention deleted segments", "count", len(gone), "bytes", bytes, "oldest", gone[0].Start,
			"used_bytes", used, "free_bytes", free)
	}
}

// agedChannels returns the channels whose recordings expire: all with a policy when a global
// max age is set, else those whose policy sets one.
func (m *recordings) agedChannels() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for id, p := range m.policies {
		if m.maxAge > 0 || p.MaxAge > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func appendSegments(out []record.Segment, rs []device.Recording) []record.Segment {
	for _, r := range rs {
		out = append(out, record.Segment{ID: r.ID, Stream: r.Stream, Path: r.Path, Start: r.Start, End: r.End, Bytes: r.Bytes, Codecs: r.Codecs})
	}
	return out
}

// removeOrphans deletes the files of deleted channels' recordings.
func (m *recordings) removeOrphans(ctx context.Context) {
	for ctx.Err() == nil {
		paths, err := m.db.OrphanedRecordingPaths(ctx, retentionBatch)
		if err != nil || len(paths) == 0 {
			if err != nil {
				m.log.Warn("retention: listing orphaned recordings", "error", err)
			}
			return
		}
		var done []string
		for _, p := range paths {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				m.log.Warn("retention: cannot remove the file of a deleted channel", "path", p, "error", err)
				continue
			}
			done = append(done, p)
		}
		if len(done) == 0 {
			return
		}
		if err := m.db.ForgetOrphanedRecordings(ctx, done); err != nil {
			m.log.Warn("retention: forgetting orphaned recordings", "error", err)
			return
		}
		m.log.Info("removed the recordings of deleted channels", "files", len(done))
	}
}

// retryPending indexes the segments whose first indexing failed.
func (m *recordings) retryPending(ctx context.Context) {
	m.mu.Lock()
	pending := m.pending
	m.pending = nil
	m.mu.Unlock()
	for i, r := range pending {
		err := m.db.AddRecording(ctx, r)
		switch {
		case err == nil, errors.Is(err, device.ErrConflict):
		case errors.Is(err, device.ErrNotFound):
			os.Remove(r.Path)
		default:
			m.mu.Lock()
			m.pending = append(m.pending, pending[i:]...)
			m.mu.Unlock()
			return
		}
	}
}

// sampleRates updates each worker's write rate.
func (m *recordings) sampleRates() {
	m.mu.Lock()
	ws := make([]*recordWorker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	now := time.Now()
	for _, w := range ws {
		w.sample(now)
	}
}

// RecordingPolicy implements web.Recordings.
func (m *recordings) RecordingPolicy(ctx context.Context, channelID int64) (device.RecordingPolicy, error) {
	return m.db.RecordingPolicy(ctx, channelID)
}

// SetRecordingPolicy stores a policy and applies it: a recorder starts or stops at once, and a
// new maximum age is enforced by a retention pass right away.
func (m *recordings) SetRecordingPolicy(ctx context.Context, p *device.RecordingPolicy) error {
	cp, err := parsePolicy(*p)
	if err != nil {
		return err
	}
	if err := m.db.SetRecordingPolicy(ctx, p); err != nil {
		return err
	}
	cp.UpdatedAt = p.UpdatedAt
	m.mu.Lock()
	m.policies[p.ChannelID] = cp
	m.mu.Unlock()
	m.log.Info("recording policy set", "channel_id", p.ChannelID, "mode", p.Mode, "max_age", p.MaxAge)
	m.apply()
	select {
	case m.kick <- struct{}{}:
	default:
	}
	return nil
}

// ListRecordings implements web.Recordings.
func (m *recordings) ListRecordings(ctx context.Context, channelID int64, from, to time.Time) ([]device.Recording, error) {
	return m.db.ListRecordings(ctx, channelID, from, to)
}

// RecordingFiles implements web.Recordings.
func (m *recordings) RecordingFiles(ctx context.Context, channelID int64, from, to time.Time) ([]device.Recording, error) {
	return m.db.RecordingFiles(ctx, channelID, from, to)
}

// RecordingDays implements web.Recordings.
func (m *recordings) RecordingDays(ctx context.Context, channelID int64, month time.Time, loc *time.Location) ([]device.RecordingDay, error) {
	return m.db.RecordingDays(ctx, channelID, month, loc)
}

// Recording implements web.Recordings.
func (m *recordings) Recording(ctx context.Context, id int64) (*device.Recording, error) {
	return m.db.Recording(ctx, id)
}

// LeaseRecordings implements web.Recordings; release may be called more than once.
func (m *recordings) LeaseRecordings(ids []int64) func() {
	m.leases.Acquire(ids)
	var once sync.Once
	return func() { once.Do(func() { m.leases.Release(ids) }) }
}

// DeleteRecordingRange deletes the segments of a channel wholly inside [from, to): the files,
// then their rows. Segments that reach outside the range are kept whole, and so are leased ones.
func (m *recordings) DeleteRecordingRange(ctx context.Context, channelID int64, from, to time.Time) (device.RecordingDeletion, error) {
	var out device.RecordingDeletion
	recs, err := m.db.RecordingFiles(ctx, channelID, from, to)
	if err != nil {
		return out, err
	}
	var inside []device.Recording
	for _, r := range recs {
		if r.Start.Before(from) || r.End.After(to) {
			out.Partial++
			continue
		}
		inside = append(inside, r)
	}
	gone, derr := record.DeleteFiles(appendSegments(nil, inside), &m.leases)
	ids := make([]int64, len(gone))
	for i, s := range gone {
		ids[i] = s.ID
		out.Bytes += s.Bytes
	}
	out.Deleted = len(gone)
	out.Leased = len(inside) - len(gone)
	if len(ids) > 0 {
		if _, err := m.db.DeleteRecordings(ctx, ids); err != nil {
			return out, err
		}
	}
	if derr != nil {
		return out, derr
	}
	m.log.Info("recordings deleted", "channel_id", channelID, "start", from, "end", to, "segments", out.Deleted, "bytes", out.Bytes,
		"partial", out.Partial, "leased", out.Leased)
	return out, nil
}

// StorageUsage implements web.Recordings.
func (m *recordings) StorageUsage(ctx context.Context) (device.StorageUsage, error) {
	u := device.StorageUsage{MaxBytes: m.maxBytes, MinFreeBytes: m.minFreeBytes}
	var err error
	if u.UsedBytes, u.Segments, err = m.db.RecordingBytesTotal(ctx); err != nil {
		return u, err
	}
	u.FreeBytes, u.TotalBytes, _ = record.DiskBytes(m.dir)
	oldest, err := m.db.OldestRecordings(ctx, 1)
	if err != nil {
		return u, err
	}
	if len(oldest) > 0 {
		u.Oldest = oldest[0].Start
	}
	m.mu.Lock()
	ids := map[int64]bool{}
	for id, p := range m.policies {
		if p.Mode != device.RecordOff {
			ids[id] = true
		}
	}
	for id := range m.workers {
		ids[id] = true
	}
	for id := range ids {
		st := device.RecorderStatus{ChannelID: id, Stream: "ch" + strconv.FormatInt(id, 10), Mode: device.RecordOff}
		if p := m.policies[id]; p != nil {
			st.Mode = p.Mode
		}
		past := m.past[id]
		st.BytesWritten, st.Segments, st.DroppedFragments = past.Bytes, past.Segments, past.DroppedFragments
		if w := m.workers[id]; w != nil {
			w.status(&st)
		}
		u.Channels = append(u.Channels, st)
	}
	m.mu.Unlock()
	slices.SortFunc(u.Channels, func(a, b device.RecorderStatus) int { return int(a.ChannelID - b.ChannelID) })
	return u, nil
}

// addPast adds the counters of a recorder that ended to its channel's.
func (m *recordings) addPast(id int64, st record.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.past[id]
	p.Bytes += st.Bytes
	p.Segments += st.Segments
	p.DroppedFragments += st.DroppedFragments
	m.past[id] = p
}

// recordWorker records one channel: it acquires the channel's stream from the hub, which keeps
// it running while held, runs a Recorder on it until the stream ends, and starts over, with
// backoff while it fails.
type recordWorker struct {
	m         *recordings
	channelID int64
	stream    string
	cancel    context.CancelFunc
	done      chan struct{}

	mu       sync.Mutex
	rec      *record.Recorder
	lastErr  string
	rate     int64
	rateAt   time.Time
	rateFrom uint64
}

func (w *recordWorker) start() {
	ctx, cancel := context.WithCancel(w.m.ctx)
	w.cancel = cancel
	w.m.wg.Add(1)
	go func() {
		defer w.m.wg.Done()
		defer close(w.done)
		w.run(ctx)
	}()
}

// stop ends the worker and waits until its last segment is closed and indexed.
func (w *recordWorker) stop() {
	w.cancel()
	<-w.done
}

func (w *recordWorker) run(ctx context.Context) {
	log := w.m.log.With("channel_id", w.channelID, "stream", w.stream)
	backoff := recordBackoffMin
	wait := func() bool {
		d := backoff/2 + rand.N(backoff)
		backoff = min(2*backoff, recordBackoffMax)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for ctx.Err() == nil {
		s, release, err := w.m.hub.Acquire(ctx, w.stream)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, hub.ErrHubClosed) {
				return
			}
			if errors.Is(err, hub.ErrUnknown) {
				if _, cerr := w.m.db.Channel(ctx, w.channelID); errors.Is(cerr, device.ErrNotFound) {
					log.Info("channel deleted, recording stops")
					w.m.forget(w.channelID, w)
					return
				}
			}
			w.setErr(err.Error())
			log.Debug("cannot record yet", "error", err, "retry_in", backoff)
			if !wait() {
				return
			}
			continue
		}
		rec := &record.Recorder{
			Stream:          s,
			Dir:             w.m.dir,
			SegmentDuration: w.m.segment,
			Location:        time.Local,
			OnSegment:       func(seg record.Segment) { w.m.index(w.channelID, seg) },
			Logger:          w.m.baseLog.With("channel_id", w.channelID),
		}
		if err := rec.Initialize(); err != nil {
			release()
			w.setErr(err.Error())
			log.Warn("cannot start recorder", "error", err)
			if !wait() {
				return
			}
			continue
		}
		started := time.Now()
		w.setRecorder(rec)
		log.Info("recording started")
		select {
		case <-rec.Done():
		case <-ctx.Done():
			rec.Close()
		}
		<-rec.Done()
		w.setRecorder(nil)
		w.m.addPast(w.channelID, rec.Stats())
		release()
		if ctx.Err() != nil {
			log.Info("recording stopped")
			return
		}
		// The stream ended: its source ended for good (a device's BYE), or the channel's
		// source was replaced. Acquiring it again starts it again.
		why := "the stream ended"
		if st := w.m.hub.Status(w.stream); st.Err != "" {
			why += ": " + st.Err
		}
		w.setErr(why)
		log.Info("stream ended, recording resumes when it is back", "reason", why)
		if time.Since(started) > recordStable {
			backoff = recordBackoffMin
		}
		if !wait() {
			return
		}
	}
}

func (w *recordWorker) setErr(msg string) {
	w.mu.Lock()
	w.lastErr = msg
	w.mu.Unlock()
}

func (w *recordWorker) setRecorder(r *record.Recorder) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec = r
	w.rate, w.rateAt, w.rateFrom = 0, time.Now(), 0
	if r != nil {
		w.lastErr = ""
	}
}

// sample updates the write rate from the recorder's byte counter.
func (w *recordWorker) sample(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rec == nil {
		w.rate = 0
		return
	}
	b := w.rec.Stats().Bytes
	if dt := now.Sub(w.rateAt); dt > 0 && b >= w.rateFrom {
		w.rate = int64(float64(b-w.rateFrom) * 8 / dt.Seconds())
	}
	w.rateAt, w.rateFrom = now, b
}

// status fills in what the worker knows; m.mu is held.
func (w *recordWorker) status(st *device.RecorderStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st.LastError = w.lastErr
	st.WriteRate = w.rate
	if w.rec != nil {
		rs := w.rec.Stats()
		st.Recording = true
		st.BytesWritten += rs.Bytes
		st.Segments += rs.Segments
		st.DroppedFragments += rs.DroppedFragments
	}
}
