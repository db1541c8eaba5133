package rtsp

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// Errors a session fails with, wrapped with the phase and details; test them
// with errors.Is. Any other failure (a dial error, a timeout, a bad answer)
// is reported with gortsplib's or the net package's own text.
var (
	// ErrUnauthorized is returned when the camera refuses the credentials of
	// the URL (or asks for some and the URL has none): RTSP 401.
	ErrUnauthorized = errors.New("authentication failed (401 Unauthorized)")
	// ErrNotFound is returned when the camera does not know the URL's path:
	// RTSP 404.
	ErrNotFound = errors.New("stream not found (404 Not Found)")
	// ErrNoTracks is returned when the camera offers no H.264/H.265 video
	// and no AAC/G.711 audio.
	ErrNoTracks = errors.New("no supported track")
	// ErrNoMedia is returned when the camera sent no RTP packet for
	// ReadTimeout, although the RTSP session is alive.
	ErrNoMedia = errors.New("no media received")
	// ErrClosedByCamera is returned when the camera closed the connection.
	ErrClosedByCamera = errors.New("connection closed by the camera")
)

// phaseError explains err, which happened during phase ("describe",
// "setup", "play", "read"), in the words an operator needs.
func phaseError(phase string, err error, hasUser bool) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("connect: %w", err)
	}
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		switch bad.Code {
		case base.StatusUnauthorized:
			if hasUser {
				return fmt.Errorf("%s: %w: wrong credentials", phase, ErrUnauthorized)
			}
			return fmt.Errorf("%s: %w: the camera requires credentials and the URL has none", phase, ErrUnauthorized)
		case base.StatusNotFound:
			return fmt.Errorf("%s: %w", phase, ErrNotFound)
		case base.StatusUnsupportedTransport:
			return fmt.Errorf("%s: the camera refuses this transport (461 Unsupported Transport): try %q or %q",
				phase, TransportTCP, TransportAuto)
		}
	}
	var authSetup liberrors.ErrClientAuthSetup
	if errors.As(err, &authSetup) {
		return fmt.Errorf("%s: %w: %w", phase, ErrUnauthorized, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w", phase, ErrClosedByCamera)
	}
	return fmt.Errorf("%s: %w", phase, err)
}
