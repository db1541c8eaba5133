package gbsim

import (
	"context"
	"time"
)

// Media transports of MediaRequest.Transport, named from the platform's
// point of view as in its offer's a=setup (RFC 4145 §4).
const (
	// TransportUDP: RTP over UDP to RemoteAddr.
	TransportUDP = "udp"
	// TransportTCPPassive: the platform listens at RemoteAddr; the
	// simulator connects.
	TransportTCPPassive = "tcp-passive"
	// TransportTCPActive: the simulator listens on LocalPort; the platform
	// connects.
	TransportTCPActive = "tcp-active"
)

// MediaRequest is the media session an INVITE asks for, as the simulator
// understood the platform's offer. (media/testsrc/gbmedia.Request has the
// same fields in the same order, so one converts to the other.)
type MediaRequest struct {
	// ChannelID is the channel invited (the Request-URI's user).
	ChannelID string
	// Mode is the offer's s= line: "Play", "Playback" or "Download".
	Mode string
	// Start and End are the offer's t= range (zero for Play).
	Start, End time.Time
	// Transport is TransportUDP, TransportTCPPassive or TransportTCPActive.
	Transport string
	// RemoteAddr is the platform's media address from the offer, ip:port.
	RemoteAddr string
	// SSRC is what the simulator puts in RTP: its answer's y= (the offer's,
	// or its own, or 0, by Quirks).
	SSRC uint32
	// DownloadSpeed is the offer's a=downloadspeed (0 when absent).
	DownloadSpeed int
}

// Media starts the media of the simulator's calls; the simulator never
// imports a media package. Start is called on the INVITE, before the
// answer, because the answer names LocalPort; sending starts at Begin,
// when the ACK arrives. A nil Config.Media answers with DefaultMediaPort
// and sends nothing.
type Media interface {
	Start(ctx context.Context, req MediaRequest) (MediaSession, error)
}

// MediaSession is one call's media. Its methods are called from the
// simulator's goroutines, possibly concurrently.
type MediaSession interface {
	// LocalPort is the port of the SDP answer: the UDP source port, the
	// port TCP passive connects from, or the port TCP active listens on.
	LocalPort() int
	// Begin starts sending (the ACK arrived).
	Begin()
	// Play resumes after Pause and sets the speed to scale (MANSRTSP PLAY
	// with Scale); scale <= 0 keeps the speed.
	Play(scale float64)
	// Pause stops sending until Play (MANSRTSP PAUSE).
	Pause()
	// Seek moves to Start+pos (MANSRTSP PLAY with Range: npt=pos-).
	Seek(pos time.Duration)
	// Done is closed when the session ends: a playback or download
	// reached End, the transport failed, or Close. When the session also
	// has an Err() error method, a non-nil Err says it failed rather than
	// finished.
	Done() <-chan struct{}
	// Close stops the session. It may be called more than once.
	Close()
}

// DefaultMediaPort is the port answered when Config.Media is nil.
const DefaultMediaPort = 15060

// failed reports whether a session that ended says it failed.
func failed(s MediaSession) bool {
	if e, ok := s.(interface{ Err() error }); ok {
		return e.Err() != nil
	}
	return false
}
