package onvif

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrUnauthorized is returned when the device refuses the credentials: HTTP
// 401 or 403, or a SOAP fault with the subcode ter:NotAuthorized. A
// *FaultError with that subcode also matches it with errors.Is.
var ErrUnauthorized = errors.New("onvif: not authorized")

// ErrNotONVIF is returned when the reply is not a SOAP envelope at all: an
// HTML page, an empty body, garbage, or an HTTP error without a SOAP fault
// (typically 404 from a web server that is not an ONVIF device service).
var ErrNotONVIF = errors.New("onvif: not an ONVIF device service")

// ErrBadResponse is returned when the reply is a SOAP envelope but cannot be
// used: malformed or truncated XML, a body without the expected response
// element, a missing mandatory value, or a reply larger than the size cap.
var ErrBadResponse = errors.New("onvif: bad response")

// ErrTimeout is returned, wrapping the original error, when the device does
// not answer within the client's timeout or the context's deadline.
var ErrTimeout = errors.New("onvif: timeout")

// ErrNoService is returned when the device does not offer the service an
// operation needs (e.g. PTZ on a fixed camera).
var ErrNoService = errors.New("onvif: service not offered by the device")

// FaultError is a SOAP fault returned by the device (SOAP 1.2 §5.4, or the
// SOAP 1.1 faultcode/faultstring form). Codes are local names without their
// namespace prefix: "Sender", "NotAuthorized".
type FaultError struct {
	// HTTPStatus is the status code of the HTTP response that carried the fault.
	HTTPStatus int
	// Code is the fault code: Sender, Receiver, VersionMismatch, MustUnderstand
	// (SOAP 1.2) or Client, Server (SOAP 1.1).
	Code string
	// Subcode is the most specific subcode, e.g. NoProfile in
	// Sender/InvalidArgVal/NoProfile; empty when there is none.
	Subcode string
	// Subcodes lists every subcode level, outermost first.
	Subcodes []string
	// Reason is the human readable text.
	Reason string
}

// Error implements error.
func (e *FaultError) Error() string {
	var b strings.Builder
	b.WriteString("onvif: SOAP fault ")
	b.WriteString(e.Code)
	for _, s := range e.Subcodes {
		b.WriteString("/")
		b.WriteString(s)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	return b.String()
}

// Is reports whether the fault means ErrUnauthorized: the NotAuthorized
// subcode (ONVIF Core §5.11.2.1) or an HTTP 401 status.
func (e *FaultError) Is(target error) bool {
	if target != ErrUnauthorized {
		return false
	}
	if e.HTTPStatus == 401 {
		return true
	}
	for _, s := range e.Subcodes {
		if s == "NotAuthorized" {
			return true
		}
	}
	return false
}

// wrapTransportError turns a failed HTTP round trip into an error that
// matches ErrTimeout when it was a timeout, keeping the original error.
func wrapTransportError(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}
