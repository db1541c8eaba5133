package rtsp

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

func TestPhaseError(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		name    string
		phase   string
		err     error
		hasUser bool
		is      error
		text    string
	}{
		{"dial", "describe", dialErr, false, nil, "connect: dial tcp: connect: connection refused"},
		{"wrong credentials", "describe", liberrors.ErrClientBadStatusCode{Code: base.StatusUnauthorized, Message: "Unauthorized"}, true,
			ErrUnauthorized, "describe: authentication failed (401 Unauthorized): wrong credentials"},
		{"no credentials", "describe", liberrors.ErrClientBadStatusCode{Code: base.StatusUnauthorized}, false,
			ErrUnauthorized, "describe: authentication failed (401 Unauthorized): the camera requires credentials and the URL has none"},
		{"not found", "describe", liberrors.ErrClientBadStatusCode{Code: base.StatusNotFound}, false, ErrNotFound, "describe: stream not found (404 Not Found)"},
		{"other status", "setup", liberrors.ErrClientBadStatusCode{Code: base.StatusInternalServerError, Message: "Internal Server Error"}, false,
			nil, "setup: bad status code: 500 (Internal Server Error)"},
		{"UDP refused", "setup", liberrors.ErrClientBadStatusCode{Code: base.StatusUnsupportedTransport}, false,
			nil, `setup: the camera refuses this transport (461 Unsupported Transport): try "tcp" or "auto"`},
		{"closed", "read", io.EOF, false, ErrClosedByCamera, "read: connection closed by the camera"},
		{"timeout", "read", liberrors.ErrClientTCPTimeout{}, false, nil, "read: TCP timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := phaseError(tc.phase, tc.err, tc.hasUser)
			if got.Error() != tc.text {
				t.Errorf("text = %q, want %q", got, tc.text)
			}
			if tc.is != nil && !errors.Is(got, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", got, tc.is)
			}
			if tc.is == nil && !strings.HasPrefix(got.Error(), "connect: ") && !strings.Contains(got.Error(), "461") && !errors.Is(got, tc.err) {
				t.Errorf("%v does not wrap %v", got, tc.err)
			}
		})
	}
}
