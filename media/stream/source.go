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
