// Package hub keeps the registry of streams by name. A stream whose source
// is registered here is started when its first reader arrives and stopped an
// idle delay after its last reader leaves, unless it is marked always-on.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nvr/nvr/media/stream"
)

// Errors returned by Acquire.
var (
	// ErrUnknown is returned for a name with no registered source.
	ErrUnknown = errors.New("no such stream")
	// ErrStartTimeout is returned when the source produced nothing decodable
	// within the start timeout.
	ErrStartTimeout = errors.New("stream did not start in time")
	// ErrHubClosed is returned after Close.
	ErrHubClosed = errors.New("hub closed")
)

// restartDelay is how long an always-on source that ended waits before it
// is started again.
const restartDelay = 2 * time.Second

// Hub is the registry of streams. Set the fields, then call Initialize.
type Hub struct {
	// IdleTimeout is how long an on-demand stream keeps running after its
	// last reader left.
	IdleTimeout time.Duration
	// StartTimeout bounds how long Acquire waits for a keyframe.
	StartTimeout time.Duration
	// RingSize is the ring capacity of each stream, in units.
	RingSize int
	// Logger receives lifecycle messages.
	Logger *slog.Logger
	// Resolve, when set, is asked for the source of a name nobody Set, the
	// first time a reader wants it: streams of channels the hub has not
	// heard of (a GB28181 catalog of thousands of channels) are registered
	// lazily. It returns an error wrapping ErrUnknown for a name that names
	// no stream.
	Resolve func(ctx context.Context, name string) (src stream.Source, alwaysOn bool, err error)

	mu      sync.Mutex
	entries map[string]*entry
	closed  bool
	wg      sync.WaitGroup
}

type entry struct {
	name     string
	source   stream.Source
	alwaysOn bool
	users    int
	status   stream.Status
	failed   chan struct{} // closed and replaced when an attempt fails

	// Running state, nil when stopped.
	stream *stream.Stream
	cancel context.CancelFunc
	idle   *time.Timer
	retry  *time.Timer
}

// Initialize prepares the hub.
func (h *Hub) Initialize() {
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	h.Logger = h.Logger.With("component", "hub")
	if h.IdleTimeout <= 0 {
		h.IdleTimeout = 10 * time.Second
	}
	if h.StartTimeout <= 0 {
		h.StartTimeout = 10 * time.Second
	}
	h.entries = make(map[string]*entry)
}

// Set registers (or replaces) the source of a stream. A running stream whose
// source is replaced is restarted; readers of the old one see its end.
func (h *Hub) Set(name string, src stream.Source, alwaysOn bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	e := h.entries[name]
	if e == nil {
		e = &entry{name: name, status: stream.Status{State: stream.StateIdle, Since: time.Now()}, failed: make(chan struct{})}
		h.entries[name] = e
	} else if e.stream != nil {
		h.stopLocked(e)
	}
	e.source = src
	e.alwaysOn = alwaysOn
	if alwaysOn || e.users > 0 {
		h.startLocked(e)
	}
}

// Remove stops a stream and forgets its source.
func (h *Hub) Remove(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.entries[name]; e != nil {
		h.stopLocked(e)
		delete(h.entries, name)
	}
}

// Acquire returns the running stream called name, starting its source if
// needed and waiting (at most StartTimeout, or ctx) until a reader would get
// a keyframe at once. release must be called when the caller is done.
func (h *Hub) Acquire(ctx context.Context, name string) (s *stream.Stream, release func(), err error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, nil, ErrHubClosed
	}
	e := h.entries[name]
	if e == nil {
		h.mu.Unlock()
		if err := h.resolve(ctx, name); err != nil {
			return nil, nil, err
		}
		h.mu.Lock()
		if e = h.entries[name]; e == nil || h.closed {
			h.mu.Unlock()
			return nil, nil, fmt.Errorf("%w: %q", ErrUnknown, name)
		}
	}
	e.users++
	if e.idle != nil {
		e.idle.Stop()
		e.idle = nil
	}
	if e.stream == nil {
		h.startLocked(e)
	}
	s = e.stream
	failed := e.failed
	h.mu.Unlock()

	var once sync.Once
	release = func() { once.Do(func() { h.release(e) }) }

	// Wait for a keyframe, but no longer than one failed connection
	// attempt: a viewer of a dead camera gets its error at once.
	wctx, cancel := context.WithTimeout(ctx, h.StartTimeout)
	defer cancel()
	go func() {
		select {
		case <-failed:
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := s.WaitReady(wctx); err != nil {
		release()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		st := h.Status(name)
		if st.Err != "" {
			return nil, nil, fmt.Errorf("%w: %s", ErrStartTimeout, st.Err)
		}
		if errors.Is(err, stream.ErrClosed) {
			return nil, nil, fmt.Errorf("%w: the source ended", ErrStartTimeout)
		}
		return nil, nil, ErrStartTimeout
	}
	return s, release, nil
}

func (h *Hub) release(e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.users--
	if e.users > 0 || e.alwaysOn || e.stream == nil || h.closed {
		return
	}
	s := e.stream
	e.idle = time.AfterFunc(h.IdleTimeout, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if e.users == 0 && !e.alwaysOn && e.stream == s {
			h.Logger.Info("stopping idle stream", "stream", e.name)
			h.stopLocked(e)
		}
	})
}

// startLocked runs the entry's source in its own goroutine.
func (h *Hub) startLocked(e *entry) {
	if e.retry != nil {
		e.retry.Stop()
		e.retry = nil
	}
	s := stream.New(e.name, h.RingSize, h.Logger)
	ctx, cancel := context.WithCancel(context.Background())
	e.stream, e.cancel = s, cancel
	src := e.source
	h.Logger.Info("starting stream", "stream", e.name)
	report := func(st stream.State, err error) { h.report(e, s, st, err) }
	e.status = stream.Status{State: stream.StateConnecting, Err: e.status.Err, Since: time.Now()}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		err := src.Run(ctx, s, report)
		s.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		if e.stream != s { // stopped or replaced meanwhile
			return
		}
		e.stream, e.cancel = nil, nil
		cancel()
		if err != nil {
			h.Logger.Info("stream source ended", "stream", e.name, "reason", err)
			e.status = stream.Status{State: stream.StateIdle, Err: err.Error(), Since: time.Now()}
		}
		if e.alwaysOn && !h.closed {
			e.retry = time.AfterFunc(restartDelay, func() {
				h.mu.Lock()
				defer h.mu.Unlock()
				if h.entries[e.name] == e && e.stream == nil && !h.closed {
					h.startLocked(e)
				}
			})
		}
	}()
}

// stopLocked cancels a running source. Its stream is closed by the source
// goroutine once Run returns.
func (h *Hub) stopLocked(e *entry) {
	if e.idle != nil {
		e.idle.Stop()
		e.idle = nil
	}
	if e.retry != nil {
		e.retry.Stop()
		e.retry = nil
	}
	if e.stream == nil {
		return
	}
	e.cancel()
	e.stream.Close()
	e.stream, e.cancel = nil, nil
	st := stream.Status{State: stream.StateIdle, Since: time.Now()}
	if e.status.State == stream.StateError {
		st.Err = e.status.Err // keep the last error visible
	}
	e.status = st
}

func (h *Hub) report(e *entry, s *stream.Stream, state stream.State, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.stream != s {
		return // a stale report from a stopped source
	}
	st := stream.Status{State: state, Since: time.Now()}
	if err != nil {
		st.Err = err.Error()
	}
	if st.State == e.status.State && st.Err == e.status.Err {
		return
	}
	e.status = st
	if state == stream.StateError {
		close(e.failed)
		e.failed = make(chan struct{})
	}
	log := h.Logger.With("stream", e.name, "state", state)
	if err != nil {
		log.Warn("source state changed", "error", err)
	} else {
		log.Info("source state changed")
	}
}

// Status returns the source status of a stream; an unknown name is idle.
func (h *Hub) Status(name string) stream.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.entries[name]; e != nil {
		return e.status
	}
	return stream.Status{State: stream.StateIdle}
}

// resolve registers the source Resolve gives for name, unless one was Set
// meanwhile.
func (h *Hub) resolve(ctx context.Context, name string) error {
	if h.Resolve == nil {
		return fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	src, alwaysOn, err := h.Resolve(ctx, name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.entries[name] == nil && !h.closed {
		e := &entry{name: name, status: stream.Status{State: stream.StateIdle, Since: time.Now()}, failed: make(chan struct{})}
		e.source, e.alwaysOn = src, alwaysOn
		h.entries[name] = e
		if alwaysOn {
			h.startLocked(e)
		}
	}
	return nil
}

// Has reports whether a source is registered under name, asking Resolve
// for a name not registered yet.
func (h *Hub) Has(name string) bool {
	h.mu.Lock()
	ok := h.entries[name] != nil
	h.mu.Unlock()
	return ok || h.resolve(context.Background(), name) == nil
}

// Running returns the running stream called name, or nil. It does not start
// anything and does not count as a reader.
func (h *Hub) Running(name string) *stream.Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.entries[name]; e != nil {
		return e.stream
	}
	return nil
}

// Info describes a running stream for the API.
type Info struct {
	stream.Stats
	Status   stream.Status
	AlwaysOn bool
	// Ingest describes the source's transport when it reports one.
	Ingest *stream.Ingest
}

// Streams returns the running streams, sorted by name.
func (h *Hub) Streams() []Info {
	h.mu.Lock()
	type item struct {
		s *stream.Stream
		e *entry
	}
	var running []item
	for _, e := range h.entries {
		if e.stream != nil {
			running = append(running, item{e.stream, e})
		}
	}
	infos := make([]Info, 0, len(running))
	for _, it := range running {
		infos = append(infos, Info{Status: it.e.status, AlwaysOn: it.e.alwaysOn})
	}
	h.mu.Unlock()
	for i, it := range running {
		infos[i].Stats = it.s.Stats()
		if r, ok := it.e.source.(stream.IngestReporter); ok {
			in := r.Ingest()
			infos[i].Ingest = &in
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos
}

// Close stops every stream and waits for their sources to return.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for _, e := range h.entries {
		h.stopLocked(e)
	}
	h.mu.Unlock()
	h.wg.Wait()
}
