// Package record records streams into fragmented MP4 segment files and
// serves them back: crash recovery, time-range MP4 exports, HLS VOD
// playlists, and the retention logic that deletes old segments.
//
//   - Recorder reads a stream.Stream and writes segments under
//     <dir>/<stream>/<YYYY-MM-DD>/<start Unix ms>.mp4 (".part" while open),
//     calling OnSegment for each closed one so the caller can index it.
//   - Recover finishes the part files a crash left behind.
//   - OpenExport builds a progressive MP4 of any time range as an
//     io.ReaderAt over the segment files, without copying or re-encoding.
//   - WritePlaylist writes an fMP4 HLS VOD playlist over segments.
//   - Retention, Leases, DeleteFiles and FreeBytes implement retention.
//
// The package knows nothing of the database: Segment is what it reports and
// what it is given back. README.md explains the file format and the design.
package record
