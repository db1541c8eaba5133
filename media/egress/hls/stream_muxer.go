package hls

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/unit"
)

// multivariantFile is the name gohlslib serves the multivariant playlist under.
const multivariantFile = "index.m3u8"

// Bounds of the idle check period (a quarter of IdleTimeout).
const (
	minIdleCheck = 10 * time.Millisecond
	maxIdleCheck = 5 * time.Second
)

// streamMuxer is the HLS output of one stream: it acquires the stream, reads
// it with one Reader and feeds a gohlslib muxer, rebuilt when codecs change.
type streamMuxer struct {
	m      *Manager
	name   string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	errs   *problemLog

	g711Log bool // the G.711 note was logged; feed goroutine only

	// Guarded by m.mu.
	inflight int
	lastUsed time.Time

	mu    sync.Mutex
	gen   *generation   // the muxer requests go to; nil while none
	genCh chan struct{} // closed (and replaced) when gen changes
	err   error         // why the muxer ended, once done is closed
}

// generation is one gohlslib muxer with the probe that tells when its first
// playlist can be served.
type generation struct {
	mux       *gohlslib.Muxer
	ready     chan struct{} // closed when the playlist is served at once
	probeDone chan struct{}
}

func newStreamMuxer(m *Manager, name string) *streamMuxer {
	ctx, cancel := context.WithCancel(m.ctx)
	log := m.log.With("stream", name)
	return &streamMuxer{
		m:      m,
		name:   name,
		log:    log,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		errs:   &problemLog{log: log},
		genCh:  make(chan struct{}),
	}
}

// run acquires the stream, feeds the muxer and tears everything down when
// the stream ends, the muxer is idle or the manager closes.
func (sm *streamMuxer) run() {
	err := sm.runInner()
	sm.m.remove(sm)
	sm.cancel()
	sm.mu.Lock()
	sm.err = err
	sm.mu.Unlock()
	close(sm.done)
}

func (sm *streamMuxer) runInner() error {
	actx, cancel := context.WithTimeout(sm.ctx, sm.m.ReadyTimeout)
	s, release, err := sm.m.Acquire(actx, sm.name)
	cancel()
	if err != nil {
		if sm.ctx.Err() != nil {
			return ErrManagerClosed
		}
		sm.log.Info("cannot start stream for HLS", "err", err)
		return err
	}
	defer release()
	sm.log.Debug("HLS muxer started")

	feedErr := make(chan error, 1)
	go func() { feedErr <- sm.feed(s) }()

	period := min(max(sm.m.IdleTimeout/4, minIdleCheck), maxIdleCheck)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case err := <-feedErr:
			switch {
			case errors.Is(err, stream.ErrClosed):
				sm.log.Debug("HLS muxer stopped: stream ended")
				return ErrStreamEnded
			case sm.ctx.Err() != nil:
				return ErrManagerClosed
			}
			sm.log.Warn("HLS muxer stopped", "err", err)
			return err
		case <-tick.C:
			if sm.m.removeIfIdle(sm) {
				sm.log.Debug("HLS muxer stopped: idle")
				sm.cancel()
				<-feedErr
				return ErrStreamEnded
			}
		case <-sm.ctx.Done():
			<-feedErr
			return ErrManagerClosed
		}
	}
}

// feed reads the stream into the current muxer until the stream ends or ctx
// is cancelled. It closes its last muxer before returning.
func (sm *streamMuxer) feed(s *stream.Stream) error {
	rd := s.NewReader()
	defer rd.Close()
	var g *generation
	defer func() {
		if g != nil {
			sm.closeGeneration(g)
		}
	}()
	var tracks trackSet
	dropped := rd.Dropped()

	for {
		units, err := rd.Read(sm.ctx)
		if err != nil {
			return err
		}
		if d := rd.Dropped(); d != dropped {
			sm.log.Warn("HLS muxer fell behind the stream, skipped to keyframe", "dropped", d-dropped)
			dropped = d
		}
		for _, u := range units {
			if g == nil || tracks.changed(u) {
				var params []*unit.Params
				if g == nil {
					params = initialTracks(s.Tracks(), units)
				} else {
					sm.log.Info("codec parameters changed, restarting HLS muxer", "track", u.Track, "params", u.Params.String())
					sm.closeGeneration(g)
					g = nil
					params = withUnit(tracks.params(), u)
				}
				if tracks, err = newTrackSet(params); err != nil {
					return err
				}
				sm.noteG711(tracks)
				if g, err = sm.startGeneration(tracks); err != nil {
					return err
				}
			}
			sm.write(g, tracks, u)
		}
	}
}

// startGeneration starts a gohlslib muxer for tracks and publishes it.
func (sm *streamMuxer) startGeneration(tracks trackSet) (*generation, error) {
	carried := tracks.carried()
	if len(carried) == 0 {
		return nil, ErrNoTracks
	}
	mux := &gohlslib.Muxer{
		Tracks:             carried,
		Variant:            gohlslib.MuxerVariantFMP4,
		SegmentCount:       sm.m.SegmentCount,
		SegmentMinDuration: sm.m.SegmentDuration,
		OnEncodeError: func(err error) {
			sm.errs.warn("HLS muxer encode error", err)
		},
	}
	if err := mux.Start(); err != nil {
		return nil, err
	}
	g := &generation{mux: mux, ready: make(chan struct{}), probeDone: make(chan struct{})}
	go g.probe()

	sm.mu.Lock()
	sm.gen = g
	close(sm.genCh)
	sm.genCh = make(chan struct{})
	sm.mu.Unlock()
	return g, nil
}

// closeGeneration withdraws g from requests and closes it.
func (sm *streamMuxer) closeGeneration(g *generation) {
	sm.mu.Lock()
	if sm.gen == g {
		sm.gen = nil
		close(sm.genCh)
		sm.genCh = make(chan struct{})
	}
	sm.mu.Unlock()
	// Close wakes whatever waits inside gohlslib (the probe) with a 404.
	g.mux.Close()
	<-g.probeDone
}

// probe asks the muxer for the multivariant playlist, which gohlslib holds
// until the first segments exist, and marks the generation ready when it
// comes. It ends when the muxer is closed.
func (g *generation) probe() {
	defer close(g.probeDone)
	w := &probeWriter{header: make(http.Header)}
	g.mux.Handle(w, &http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: "/" + multivariantFile},
		Header: make(http.Header),
	})
	if w.status == http.StatusOK {
		close(g.ready)
	}
}

// write hands a unit to the muxer. Units of tracks not carried are dropped.
func (sm *streamMuxer) write(g *generation, tracks trackSet, u *unit.Unit) {
	if u.Track < 0 || u.Track >= len(tracks) || tracks[u.Track].track == nil || len(u.Data) == 0 {
		return
	}
	tr := tracks[u.Track].track
	pts := timestamp(u.PTS, tr.ClockRate)
	var err error
	switch u.Params.Codec {
	case unit.CodecH264:
		err = g.mux.WriteH264(tr, u.Time, pts, u.Data)
	case unit.CodecH265:
		err = g.mux.WriteH265(tr, u.Time, pts, u.Data)
	case unit.CodecAAC:
		err = g.mux.WriteMPEG4Audio(tr, u.Time, pts, u.Data)
	}
	if err != nil {
		sm.errs.warn("HLS muxer rejected a unit", err)
	}
}

// noteG711 logs once per stream that G.711 audio is left out.
func (sm *streamMuxer) noteG711(tracks trackSet) {
	if sm.g711Log {
		return
	}
	for _, t := range tracks {
		if t.params != nil && (t.params.Codec == unit.CodecPCMA || t.params.Codec == unit.CodecPCMU) {
			sm.g711Log = true
			sm.log.Debug("G.711 audio left out: HLS players cannot play it", "codec", t.params.Codec.String())
			return
		}
	}
}

// waitReady waits until a muxer of the stream can answer at once, and
// returns it. It fails when the stream ends, ctx ends or timeout passes.
func (sm *streamMuxer) waitReady(ctx context.Context, timeout time.Duration) (*generation, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		sm.mu.Lock()
		g, changed := sm.gen, sm.genCh
		sm.mu.Unlock()
		var ready chan struct{}
		if g != nil {
			ready = g.ready
		}
		select {
		case <-ready:
			return g, nil
		case <-changed:
		case <-sm.done:
			sm.mu.Lock()
			defer sm.mu.Unlock()
			return nil, sm.err
		case <-timer.C:
			return nil, ErrNotReady
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// serve hands the request to gohlslib, which finds files by the last
// element of the URL path, and answers 404 for what it does not know
// (gohlslib writes nothing then).
func (sm *streamMuxer) serve(w http.ResponseWriter, r *http.Request, g *generation, file string) {
	r2 := *r
	u := *r.URL
	u.Path, u.RawPath = "/"+file, ""
	r2.URL = &u
	// gohlslib lets the multivariant playlist be cached for 30 s, but its
	// codecs change when the muxer restarts on new parameters.
	tw := &trackingWriter{ResponseWriter: w, noCache: file == multivariantFile}
	g.mux.Handle(tw, &r2)
	if !tw.wrote {
		writeError(w, http.StatusNotFound, codeNotFound, "no such file")
	}
}

// initialTracks returns the parameters to start a muxer with: the stream's
// current ones, except for tracks whose first units (from the GOP cache)
// still carry older parameters.
func initialTracks(current []*unit.Params, first []*unit.Unit) []*unit.Params {
	tracks := append([]*unit.Params(nil), current...)
	seen := make(map[int]bool)
	for _, u := range first {
		if u.Track < 0 || seen[u.Track] {
			continue
		}
		seen[u.Track] = true
		tracks = withUnit(tracks, u)
	}
	return tracks
}
