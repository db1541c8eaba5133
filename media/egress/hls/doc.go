// Package hls serves live streams as HLS with fMP4 segments (RFC 8216,
// EXT-X-MAP), using gohlslib.
//
// A Manager runs at most one gohlslib Muxer per stream, fed by one stream
// Reader, whatever the number of viewers: segments are made once and served
// to all. The muxer starts when a playlist of the stream is first asked for
// and stops when no request came for IdleTimeout, when the stream ends, or
// on Close. When a track's codec parameters change the muxer is rebuilt: new
// segment names, new init segments; players reload the playlist and follow.
//
// gohlslib answers a playlist request only once two segments exist (it
// blocks until then, and forever if they never come). The Manager instead
// probes the muxer itself and holds viewers' requests, bounded by
// ReadyTimeout and the request context, until the probe succeeds, so no
// viewer goroutine is ever parked inside gohlslib.
//
// Layout of a stream's files, relative to its URL folder (all served by
// ServeHTTP with file = the last path element):
//
//	index.m3u8                 multivariant playlist
//	video1_stream.m3u8         media playlist of the video track
//	audio2_stream.m3u8         media playlist of the AAC track (an audio rendition)
//	<prefix>_video1_init.mp4   init segment; <prefix> is random per muxer
//	<prefix>_video1_segN.mp4   media segments
//
// Playlist URIs keep the request's query string, so a token in the URL
// follows the player to every file.
//
// Browsers have no G.711 in HLS: G.711 audio is left out and the video
// plays alone.
package hls
