// Package fmp4 turns a stream into fragmented MP4 (ISO/IEC 14496-12) for
// browsers' Media Source Extensions and for the recorder.
//
// Muxer is the container part and knows nothing of the network: it takes the
// units of a stream and gives an init segment (ftyp+moov) and media fragments
// (moof+mdat). ServeWS carries a Muxer's output over a WebSocket.
//
// # WebSocket protocol
//
// The server sends, in this order:
//
//  1. a TEXT message {"type":"init","mime":"video/mp4; codecs=\"avc1.4d401e,mp4a.40.2\""}
//     whose mime is ready for MediaSource.isTypeSupported and addSourceBuffer;
//  2. a BINARY message holding the init segment;
//  3. BINARY messages, each one media fragment: one video frame with the
//     audio that arrived since.
//
// When the codec parameters of a track change, a new TEXT+BINARY init pair
// follows and fragments go on. A client recreates its SourceBuffer when the
// mime changed (or calls SourceBuffer.changeType) and otherwise just appends
// the new init segment. If the stream has nothing a browser can play, a TEXT
// message {"type":"error","message":"…"} is sent and the connection closed.
// When the stream ends the server closes with status 1000 (normal closure).
//
// # Codecs
//
// Video is H.264 (avc1) or H.265 (hvc1); audio is AAC. MSE has no G.711, so a
// G.711 track is left out and the video plays alone.
//
// # Timing
//
// A sample's duration is the distance to the next sample of its track, so
// each sample leaves the muxer one sample late: a fragment carries the video
// frame before the newest one. baseMediaDecodeTime is the stream's own DTS
// (video at 90 kHz, AAC at its sample rate), so the timeline stays continuous
// across publisher restarts and codec changes.
package fmp4
