// Package onvif finds ONVIF cameras on the network (WS-Discovery) and reads
// what the platform needs to onboard them over SOAP: identity, clock, media
// profiles with their RTSP and snapshot URIs, and PTZ control.
//
// It builds its requests from the request types of github.com/use-go/onvif
// where they marshal correctly, but does its own HTTP, authentication and
// response parsing, because that library ignores HTTP status codes and SOAP
// faults, never closes bodies, has no timeout, signs with the host clock and
// has struct tags that do not match real replies. See README.md.
//
// Probe is the whole onboarding read in one call; Client offers the single
// operations; Discover sends WS-Discovery probes; FetchSnapshot fetches a
// JPEG with HTTP basic or digest authentication. The onvifsim package is a
// camera simulator for tests.
package onvif
