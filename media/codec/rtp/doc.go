// Package rtp reads RTP (RFC 3550) the way GB28181 devices send it: a
// parser that skips CSRCs, header extensions and padding without allocating,
// a small reorder buffer that turns UDP's reordering, duplicates and loss into
// an ordered stream with explicit gaps, and a reader for RTP over TCP framed
// as RFC 4571 or RTSP interleaved ("$"), which resynchronises on garbage.
//
// The package is pure: it does no network I/O of its own and imports nothing
// of the media core, so that every parser of network input here is fuzzed.
package rtp
