package hls

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/nvr/nvr/media/stream"
)

// Defaults for Manager fields left zero.
const (
	// DefaultSegmentDuration is the minimum segment duration. Segments are
	// cut at the first keyframe after it, so a camera's GOP sets the real
	// length; 1 s keeps latency low with the usual 1–2 s GOP.
	DefaultSegmentDuration = time.Second
	// DefaultSegmentCount is how many segments a playlist lists: enough for
	// players that buffer three segments and a slow fetch.
	DefaultSegmentCount = 7
	// DefaultIdleTimeout is how long a muxer outlives its last request.
	// Players poll the playlist every target duration, so anything above a
	// few segments only catches viewers that really left.
	DefaultIdleTimeout = time.Minute
	// DefaultReadyTimeout bounds how long a request waits for a stream to
	// start and its first segments to be cut. hls.js gives up on a playlist
	// after 10 s.
	DefaultReadyTimeout = 10 * time.Second
)

// minSegmentCount is the least gohlslib accepts for non-low-latency HLS.
const minSegmentCount = 3

// Errors served to viewers (as JSON) and returned by Initialize.
var (
	// ErrManagerClosed is the reason of a 503 after Close.
	ErrManagerClosed = errors.New("HLS manager closed")
	// ErrStreamEnded is the reason of a 503 when the stream ended while
	// the request waited for its first segments.
	ErrStreamEnded = errors.New("stream ended")
	// ErrNotReady is the reason of a 503 when no segment was ready within
	// ReadyTimeout.
	ErrNotReady = errors.New("no segment ready in time")
	// ErrNoTracks is the reason of a 503 when the stream carries nothing
	// HLS can take (G.711 audio alone).
	ErrNoTracks = errors.New("stream has no track HLS can carry")
)

// Manager serves HLS for many streams, one muxer per stream, started on
// demand and stopped when idle. Set the fields, call Initialize, then serve;
// Close stops everything.
type Manager struct {
	// SegmentDuration is the minimum segment duration (0: DefaultSegmentDuration).
	SegmentDuration time.Duration
	// SegmentCount is the number of segments in a playlist (0: DefaultSegmentCount; at least 3).
	SegmentCount int
	// IdleTimeout stops a stream's muxer when no request came for it for
	// that long (0: DefaultIdleTimeout).
	IdleTimeout time.Duration
	// ReadyTimeout bounds the wait of a request for a starting muxer (0: DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// Acquire returns the running stream for a name (starting its source on
	// demand) and a release func; the manager holds it while its muxer lives.
	Acquire func(ctx context.Context, name string) (*stream.Stream, func(), error)
	// Logger receives the manager's logs (nil: discarded).
	Logger *slog.Logger

	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	muxers map[string]*streamMuxer
	closed bool
}

// Initialize checks the fields and fills the defaults.
func (m *Manager) Initialize() error {
	if m.Acquire == nil {
		return errors.New("hls: Acquire is required")
	}
	if m.SegmentDuration <= 0 {
		m.SegmentDuration = DefaultSegmentDuration
	}
	if m.SegmentCount == 0 {
		m.SegmentCount = DefaultSegmentCount
	}
	if m.SegmentCount < minSegmentCount {
		return fmt.Errorf("hls: SegmentCount %d is below the minimum of %d", m.SegmentCount, minSegmentCount)
	}
	if m.IdleTimeout <= 0 {
		m.IdleTimeout = DefaultIdleTimeout
	}
	if m.ReadyTimeout <= 0 {
		m.ReadyTimeout = DefaultReadyTimeout
	}
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m.log = log.With("component", "hls")
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.muxers = make(map[string]*streamMuxer)
	return nil
}

// Close stops every muxer, releases their streams and waits for all
// goroutines of the manager to end. Requests in flight get an error.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	clear(m.muxers)
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

// ServeHTTP serves one file of stream name: file is the last element of the
// request path, "index.m3u8" or a name from a playlist. A playlist request
// starts the stream's muxer if it is not running and waits (bounded) for its
// first segments. Errors: 404 for an unknown file, 503 with a JSON body
// {"error":{"code":"stream_unavailable","message":…}} when the stream cannot
// be had.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request, name, file string) {
	if file == "" || file == "." || file == ".." || path.Base(file) != file || strings.Contains(file, `\`) {
		writeError(w, http.StatusNotFound, codeNotFound, "no such file")
		return
	}
	// Only a playlist starts a muxer: any other file belongs to the muxer
	// that listed it (its name carries that muxer's random prefix).
	start := strings.HasSuffix(file, ".m3u8")

	// One retry covers a muxer that ended (its stream closed) just as the
	// request arrived: the next one starts the stream again.
	for attempt := 0; ; attempt++ {
		sm, err := m.attach(name, start)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, codeStreamUnavailable, err.Error())
			return
		}
		if sm == nil {
			writeError(w, http.StatusNotFound, codeNotFound, "no such file")
			return
		}
		g, err := sm.waitReady(r.Context(), m.ReadyTimeout)
		if err == nil {
			sm.serve(w, r, g, file)
			m.detach(sm)
			return
		}
		m.detach(sm)
		if errors.Is(err, ErrStreamEnded) && start && attempt == 0 {
			continue
		}
		if r.Context().Err() == nil {
			m.log.Debug("HLS request failed", "stream", name, "file", file, "err", err)
		}
		writeError(w, http.StatusServiceUnavailable, codeStreamUnavailable, err.Error())
		return
	}
}

// attach returns the muxer of a stream, creating and starting it when create
// is set, and counts the request against idleness. It returns nil, nil when
// there is no muxer and create is false.
func (m *Manager) attach(name string, create bool) (*streamMuxer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrManagerClosed
	}
	sm := m.muxers[name]
	if sm == nil {
		if !create {
			return nil, nil
		}
		sm = newStreamMuxer(m, name)
		m.muxers[name] = sm
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			sm.run()
		}()
	}
	sm.inflight++
	sm.lastUsed = time.Now()
	return sm, nil
}

// detach ends a request's hold on a muxer.
func (m *Manager) detach(sm *streamMuxer) {
	m.mu.Lock()
	sm.inflight--
	sm.lastUsed = time.Now()
	m.mu.Unlock()
}

// removeIfIdle forgets sm and reports true when it has been idle for
// IdleTimeout. Under m.mu, so no request can attach to it afterwards.
func (m *Manager) removeIfIdle(sm *streamMuxer) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sm.inflight > 0 || time.Since(sm.lastUsed) < m.IdleTimeout {
		return false
	}
	if m.muxers[sm.name] == sm {
		delete(m.muxers, sm.name)
	}
	return true
}

// remove forgets sm, so that the next request starts a new muxer.
func (m *Manager) remove(sm *streamMuxer) {
	m.mu.Lock()
	if m.muxers[sm.name] == sm {
		delete(m.muxers, sm.name)
	}
	m.mu.Unlock()
}
