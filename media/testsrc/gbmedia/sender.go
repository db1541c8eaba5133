package gbmedia

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults of the Sender fields left zero.
const (
	// DefaultPayloadSize keeps an RTP packet (12-byte header, 8-byte UDP and
	// 20-byte IP headers, a 4-byte header extension) under a 1500-byte MTU.
	DefaultPayloadSize = 1400
	// DefaultDialTimeout is how long TCP passive keeps retrying to reach the
	// platform: it may open its listener only after sending the INVITE.
	DefaultDialTimeout = 5 * time.Second
	// DefaultAcceptTimeout is how long TCP active waits for the platform to
	// connect after the session was started.
	DefaultAcceptTimeout = 20 * time.Second
	// minPayloadSize leaves room for a pack header and a PES header in each
	// packet; smaller values only make the test stream silly.
	minPayloadSize = 188
)

// Errors returned by Sender.Start.
var (
	// ErrBadRequest is returned for a request the Sender cannot serve: an
	// unknown mode or transport, or a RemoteAddr that is not ip:port.
	ErrBadRequest = errors.New("bad media request")
	// ErrClosed is returned after Sender.Close.
	ErrClosed = errors.New("sender closed")
)

// Sender is the media side of the GB28181 device simulator: for each INVITE
// it starts a Session that sends PS over RTP made from the testsrc clips,
// paced in real time.
//
// Set the fields before the first Start and do not change them afterwards.
// The zero value sends ClipSetH264G711A without quirks on all interfaces.
type Sender struct {
	// Clips is the clip set of channels not in ChannelClips; "" means
	// ClipSetH264G711A.
	Clips string
	// ChannelClips chooses the clip set per channel ID.
	ChannelClips map[string]string
	// Quirks shape the stream like a misbehaving device's.
	Quirks Quirks
	// BindIP is the local address of every socket; "" means all interfaces.
	BindIP string
	// Bitrate, in bit/s, pads the video with H.264/H.265 filler NAL units so
	// the stream reaches about this rate (PS and RTP overhead included) when
	// the clip is below it, e.g. 2_000_000 for load tests. The PS stays valid
	// and decoders ignore the filler. Clips already above it are unchanged;
	// ClipSetH264HDG711A is real 2 Mbit/s content. 0 sends the clips as they
	// are.
	Bitrate int
	// PayloadSize is the largest RTP payload; 0 means DefaultPayloadSize.
	PayloadSize int
	// Interleaved frames TCP packets RTSP-style ('$', channel 0, 2-byte
	// length; RFC 2326 section 10.12) instead of RFC 4571's 2-byte length.
	Interleaved bool
	// DialTimeout bounds TCP passive connection retries; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// AcceptTimeout bounds the wait for the platform in TCP active; 0 means
	// DefaultAcceptTimeout.
	AcceptTimeout time.Duration
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger

	mu       sync.Mutex
	sets     map[string]*clipSet
	sessions map[*Session]struct{}
	closed   bool
}

// Start prepares a session for req: it opens the local socket (UDP, or the
// listener of TCP active) so that LocalPort can go into the SDP answer. The
// session sends nothing before Begin. ctx bounds Start only; the session
// lives until it reaches End, fails, or is closed.
func (s *Sender) Start(ctx context.Context, req Request) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch req.Mode {
	case ModePlay, ModePlayback, ModeDownload:
	default:
		return nil, fmt.Errorf("%w: mode %q", ErrBadRequest, req.Mode)
	}
	cs, err := s.clipSet(req.ChannelID)
	if err != nil {
		return nil, err
	}

	var bindIP net.IP
	if s.BindIP != "" {
		if bindIP = net.ParseIP(s.BindIP); bindIP == nil {
			return nil, fmt.Errorf("%w: bind IP %q", ErrBadRequest, s.BindIP)
		}
	}

	sess := newSession(s, req, cs)
	switch req.Transport {
	case TransportUDP:
		raddr, err := resolveRemote(ctx, req.RemoteAddr)
		if err != nil {
			return nil, err
		}
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: bindIP})
		if err != nil {
			return nil, err
		}
		sess.udp, sess.raddr = conn, raddr
		sess.localPort = conn.LocalAddr().(*net.UDPAddr).Port
	case TransportTCPPassive:
		if _, err := resolveRemote(ctx, req.RemoteAddr); err != nil {
			return nil, err
		}
		// The SDP answer needs our port before we connect: take a free one now
		// and dial from it later (see Session.dial).
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: bindIP})
		if err != nil {
			return nil, err
		}
		sess.localPort = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	case TransportTCPActive:
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: bindIP})
		if err != nil {
			return nil, err
		}
		sess.ln = ln
		sess.localPort = ln.Addr().(*net.TCPAddr).Port
	default:
		return nil, fmt.Errorf("%w: transport %q", ErrBadRequest, req.Transport)
	}
	sess.bindIP = bindIP

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sess.closeSockets()
		return nil, ErrClosed
	}
	if s.sessions == nil {
		s.sessions = make(map[*Session]struct{})
	}
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()

	sess.log.Debug("media session started", "local_port", sess.localPort)
	go sess.run()
	return sess, nil
}

// Sessions returns the sessions started and not yet closed, in no order.
// Tests use it to find the session an INVITE made.
func (s *Sender) Sessions() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Session, 0, len(s.sessions))
	for sess := range s.sessions {
		out = append(out, sess)
	}
	return out
}

// Close closes every session and refuses new ones.
func (s *Sender) Close() {
	s.mu.Lock()
	s.closed = true
	sessions := s.sessions
	s.sessions = nil
	s.mu.Unlock()
	for sess := range sessions {
		sess.Close()
	}
}

func (s *Sender) remove(sess *Session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// clipSet returns the prepared clip set of a channel, loading it on first
// use. Sessions share it read-only.
func (s *Sender) clipSet(channelID string) (*clipSet, error) {
	name := s.ChannelClips[channelID]
	if name == "" {
		name = s.Clips
	}
	if name == "" {
		name = ClipSetH264G711A
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.sets[name]; cs != nil {
		return cs, nil
	}
	cs, err := loadClipSet(name, s.Bitrate)
	if err != nil {
		return nil, err
	}
	if s.sets == nil {
		s.sets = make(map[string]*clipSet)
	}
	s.sets[name] = cs
	return cs, nil
}

func (s *Sender) payloadSize() int {
	if s.PayloadSize <= 0 {
		return DefaultPayloadSize
	}
	return max(s.PayloadSize, minPayloadSize)
}

// resolveRemote parses ip:port, looking the host up when it is a name.
func resolveRemote(ctx context.Context, addr string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: remote address %q: %w", ErrBadRequest, addr, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: remote address %q: %w", ErrBadRequest, addr, err)
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: remote address %q: no address", ErrBadRequest, addr)
	}
	p, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: remote address %q: %w", ErrBadRequest, addr, err)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(p)), nil
}
