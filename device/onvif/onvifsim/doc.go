// Package onvifsim is an ONVIF camera simulator for tests and for the
// onvifsim command: an HTTP SOAP server answering the Device, Media, Media2
// (when Config.Media2 is set) and PTZ operations the platform uses, with
// WS-UsernameToken checked against its own (optionally wrong) clock, a
// digest-protected JPEG snapshot, and a WS-Discovery responder.
//
// Its replies are rendered from templates in templates/, shaped like three
// vendors' firmware (Hikvision, Dahua and Axis envelope styles); golden
// renders of them live in ../testdata/sim for the client's parser tests.
// It shares no code with package onvif on purpose: a mistake made on both
// sides of a protocol would otherwise pass unnoticed.
//
// Tests can make it misbehave (Misbehave: faults, malformed XML, delays)
// and read back what it received (Requests, PTZCalls). Media2 operations
// share their local names with Media's, so they are named with Media2Op
// there ("tr2:GetProfiles").
package onvifsim
