// Package ui serves the web console: a single page of plain HTML, CSS
// and JavaScript modules embedded in the binary, so that the platform runs
// from the Go binary alone, with no Node build step and nothing fetched from
// other hosts.
//
// The console is a client of the public API under /api/v1 and of the play
// URLs (/ws/live/{stream}.mp4 for MSE, /live/{stream}/index.m3u8 for native
// HLS); it has no server-side logic of its own. What this package does is
// serve the files well:
//
//   - "/" (and "/index.html") is the page, revalidated on every load
//     (Cache-Control: no-cache with an ETag);
//   - the assets live under "/console/v-<hash>/…", where hash covers every
//     embedded file: the page links the current version, so assets can be
//     cached for a year (immutable) and a new binary is picked up at once.
//     Relative imports between modules stay inside the versioned folder.
//     Older or missing versions are still served, uncached, so that a page
//     loaded before an upgrade keeps working;
//   - every answer carries a Content-Security-Policy that allows only this
//     origin (no inline script, no remote script, style, media or socket),
//     no-referrer (play URLs carry the token in the query) and nosniff;
//   - text assets are gzipped once at start-up and served compressed to
//     clients that accept it.
//
// Which paths belong to the console is decided by Owns: the page, the
// favicon and /console/…; everything else (the API, play URLs, unknown
// paths) is left to the API router, which answers its JSON 404. The console
// routes by the URL fragment (#/wall), so no other path needs the page.
package ui
