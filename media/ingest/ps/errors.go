package ps

import "errors"

// Errors of the receiver and the source; test them with errors.Is.
var (
	// ErrNoMedia is returned by Conn.Run (and ends a Source session) when
	// no RTP packet of the stream arrived for the no-media timeout.
	ErrNoMedia = errors.New("no media received")
	// ErrNoPort is returned by Open when every port of the range is taken.
	ErrNoPort = errors.New("no free port in the media port range")
	// ErrSSRCInUse is returned in single-port mode by Open (and logged by
	// SetRemote) when another stream already receives that SSRC.
	ErrSSRCInUse = errors.New("SSRC already in use on the shared port")
	// ErrTransport is returned for an unknown transport name.
	ErrTransport = errors.New("unknown transport")
	// ErrClosed is returned by Open after Receiver.Close, and by Run on a
	// closed Conn.
	ErrClosed = errors.New("closed")
	// ErrDisconnected is returned by Conn.Run when the device closed the
	// TCP connection after sending media.
	ErrDisconnected = errors.New("the device closed the media connection")
	// ErrNoAddress is returned by Conn.Run for TCP active without the
	// device's address from its answer.
	ErrNoAddress = errors.New("no device media address to connect to")
	// ErrCallEnded ends a Source session when the device ended the call
	// (its BYE, or MediaStatus 121 at the end of a playback).
	ErrCallEnded = errors.New("the device ended the call")
)
