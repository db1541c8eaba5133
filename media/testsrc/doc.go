// Package testsrc provides committed test clips and a real RTSP server that
// replays them in a loop, the way a camera would.
//
// Tests all over the repository (RTSP ingest, HTTP API end-to-end tests, the
// load tool) use it instead of ffmpeg, so they run anywhere without external
// tools. The clips live in testdata/ and are embedded into the package; see
// testdata/README.md for how they were made.
package testsrc
