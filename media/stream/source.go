package stream

import (
	"context"
	"time"
)

// State is what a source says about its connection to the camera.
type State string

// Source states, shown per channel in the API.
const (
	StateIdle       State = "idle"       // not running: nobody watches an on-demand channel
	StateConnecting State = "connecting" // (re)connecting
	StateOnline     State = "online"     // media is flowing
	StateError      State = "error"      // the last attempt failed; retrying
)

// Status is a source's state with the last error text and when it was entered.
type Status struct {
	State State
	Err   string
	Since time.Time
}

// Source feeds a stream from somewhere: an RTSP camera, a GB28181 INVITE.
type Source interface {
	// Run publishes into s until ctx ends, reconnecting by itself, and
	// reports each state change. It returns nil when ctx ended, or an error
	// when the source ended for good (a device's BYE, the end of a
	// playback); the stream is then closed and its readers see the end.
	Run(ctx context.Context, s *Stream, report func(State, error)) error
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, s *Stream, report func(State, error)) error

// Run calls f.
func (f SourceFunc) Run(ctx context.Context, s *Stream, report func(State, error)) error {
	return f(ctx, s, report)
}

// Ingest describes how a running source receives media, for the API. Fields
// that do not apply to a protocol are empty.
type Ingest struct {
	// Protocol is "rtsp" or "gb28181".
	Protocol string
	// Transport is "udp", "tcp", "tcp-passive" or "tcp-active".
	Transport string
	// LocalPort is the port media arrives on (GB28181 UDP and TCP passive).
	LocalPort int
	// Remote is the address media comes from ("ip:port"), when known.
	Remote string
	// SSRC is the RTP synchronisation source, as in the SDP (GB28181).
	SSRC string
	// Packets, Lost and Reordered count RTP packets since the session
	// started; Lost counts sequence numbers that never arrived.
	Packets, Lost, Reordered uint64
}

// LossPercent is the share of packets lost, 0 to 100.
func (in Ingest) LossPercent() float64 {
	if in.Packets+in.Lost == 0 {
		return 0
	}
	return 100 * float64(in.Lost) / float64(in.Packets+in.Lost)
}

// IngestReporter is implemented by sources that can describe their
// transport; the hub adds the description to a running stream's Info.
type IngestReporter interface {
	Ingest() Ingest
}
