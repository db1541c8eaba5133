package testsrc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bluenviron/gortsplib/v4"
)

// listenHost is the only address the server binds: tests must not reach the
// network.
const listenHost = "127.0.0.1"

// ErrNoTracks is logged by AddStream when it gets neither video nor audio.
var ErrNoTracks = errors.New("stream has neither video nor audio")

// ServerConfig configures a Server.
type ServerConfig struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Username and Password, when Username is set, are required from readers
	// (basic or digest-MD5, as gortsplib offers them).
	Username, Password string
	// UDP also offers the UDP transport, on a free 127.0.0.1 RTP/RTCP port pair.
	// TCP (interleaved) is always offered.
	UDP bool
}

// Server is an RTSP server on 127.0.0.1 that publishes clips in a loop, in
// real time, like a camera. It can be closed and restarted on the same port
// to simulate a camera that goes away and comes back.
type Server struct {
	cfg  ServerConfig
	log  *slog.Logger
	addr string // 127.0.0.1:port, fixed for the life of the Server

	// mu guards the fields below and serializes AddStream, Close and Restart.
	// gortsplib callbacks never take it, so it may be held while the RTSP
	// server shuts down.
	mu      sync.Mutex
	feeds   []*feed
	paths   map[string]struct{}
	inst    *instance // nil while closed
	rtpPort int       // last UDP RTP port, reused by Restart when free

	conns   atomic.Int64
	sessMu  sync.Mutex
	playing map[*gortsplib.ServerSession]struct{}
}

// NewServer starts a Server listening on 127.0.0.1 on a free port.
func NewServer(cfg ServerConfig) (*Server, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost, "0"))
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     logger.With("component", "testsrc"),
		addr:    ln.Addr().String(),
		paths:   make(map[string]struct{}),
		playing: make(map[*gortsplib.ServerSession]struct{}),
	}
	if err := s.start(ln); err != nil {
		return nil, err
	}
	return s, nil
}

// Addr returns the RTSP address, host:port.
func (s *Server) Addr() string {
	return s.addr
}

// URL returns the rtsp:// URL of a path, without credentials.
func (s *Server) URL(path string) string {
	return "rtsp://" + s.addr + "/" + cleanPath(path)
}

// AddStream publishes video and audio (either may be nil, not both) at path.
// The stream is replayed in real time in a loop forever, with RTP timestamps
// that keep increasing across loops, whether or not anyone reads it.
// A path that is already published is left as it is (and an error is logged).
func (s *Server) AddStream(path string, video *VideoClip, audio *AudioClip) {
	s.addFeed([]string{cleanPath(path)}, video, audio)
}

// AddStreams publishes the same clips at prefix0 … prefix(n-1), for load
// tests. One goroutine paces all of them and each packet is built once.
func (s *Server) AddStreams(prefix string, n int, video *VideoClip, audio *AudioClip) {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = cleanPath(fmt.Sprintf("%s%d", prefix, i))
	}
	s.addFeed(paths, video, audio)
}

func (s *Server) addFeed(paths []string, video *VideoClip, audio *AudioClip) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if video == nil && audio == nil {
		s.log.Error("stream not added", "error", ErrNoTracks, "stream", strings.Join(paths, ","))
		return
	}
	kept := paths[:0]
	for _, p := range paths {
		if _, ok := s.paths[p]; ok {
			s.log.Error("stream not added: path already published", "stream", p)
			continue
		}
		s.paths[p] = struct{}{}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return
	}

	f, err := newFeed(kept, video, audio)
	if err != nil {
		s.log.Error("stream not added", "error", err, "stream", strings.Join(kept, ","))
		for _, p := range kept {
			delete(s.paths, p)
		}
		return
	}
	s.feeds = append(s.feeds, f)
	if s.inst != nil {
		s.inst.addFeed(f)
	}
}

// Close stops listening, drops every connection and session, and stops
// pacing. It waits until all goroutines are gone. Streams stay registered for
// Restart.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.inst == nil {
		return
	}
	s.inst.close()
	s.inst = nil
	s.log.Debug("closed", "addr", s.addr)
}

// Restart listens again on the same port after Close, with the same streams.
// A running server is closed first.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.inst != nil {
		s.inst.close()
		s.inst = nil
	}
	// Go sets SO_REUSEADDR on listeners, so connections of the previous
	// instance in TIME_WAIT do not block the port.
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("restart on %s: %w", s.addr, err)
	}
	return s.startLocked(ln)
}

// Sessions returns the number of sessions that are currently playing.
func (s *Server) Sessions() int {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	return len(s.playing)
}

// Conns returns the number of open RTSP (TCP) connections.
func (s *Server) Conns() int {
	return int(s.conns.Load())
}

func (s *Server) start(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked(ln)
}

// startLocked starts an instance on ln; it owns ln from here on.
func (s *Server) startLocked(ln net.Listener) error {
	inst, err := newInstance(s, ln)
	if err != nil {
		return err
	}
	s.inst = inst
	s.log.Debug("listening", "addr", s.addr, "udp", s.cfg.UDP)
	return nil
}

func (s *Server) setPlaying(ss *gortsplib.ServerSession, playing bool) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if playing {
		s.playing[ss] = struct{}{}
	} else {
		delete(s.playing, ss)
	}
}

// cleanPath turns "/cam/1/" and "cam/1" into the same key.
func cleanPath(p string) string {
	return strings.Trim(p, "/")
}
