package gb

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	sipgb "github.com/nvr/nvr/sip/gb"
	"github.com/nvr/nvr/sip/ptz"
)

// Errors of the operations that reach a device. The web layer maps them onto statuses.
var (
	// ErrOffline is returned when the device is offline or not registered with this process, so
	// that the platform cannot reach it (409).
	ErrOffline = errors.New("device is offline")
	// ErrTimeout is returned when the device did not answer within sip.query_timeout (504).
	ErrTimeout = errors.New("device did not answer in time")
	// ErrDeviceError is returned when the device refused the request (a Result of ERROR or a
	// SIP error status) or could not be reached (502).
	ErrDeviceError = errors.New("device answered with an error")
	// ErrNotGB is returned for an operation that only GB28181 devices and channels support.
	ErrNotGB = fmt.Errorf("%w: not a GB28181 device", device.ErrInvalid)
)

// deviceErr turns an error of the protocol client into one of the errors above, keeping the
// original text.
func deviceErr(err error) error {
	var re *sip.ResponseError
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, sipgb.ErrNotRegistered), errors.Is(err, sip.ErrNoConnection):
		// ErrNoConnection: registered over TCP before the platform restarted and not
		// reconnected since, so there is no way to reach it until it does.
		return fmt.Errorf("%w: %w", ErrOffline, err)
	case errors.Is(err, sipgb.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, sipgb.ErrDeviceError), errors.As(err, &re), errors.As(err, &ne):
		// A network error too: the device's TCP connection is gone and
		// it does not accept one from the platform.
		return fmt.Errorf("%w: %w", ErrDeviceError, err)
	case errors.Is(err, ptz.ErrCommand), errors.Is(err, ptz.ErrRange):
		return fmt.Errorf("%w: %w", device.ErrInvalid, err)
	}
	return err
}
