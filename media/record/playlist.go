package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// PlaylistOptions configures WritePlaylist.
type PlaylistOptions struct {
	// URL returns the URL of a segment file. The server must answer Range
	// requests on it (http.ServeContent does): the playlist addresses the
	// init segment and the media by byte range.
	URL func(Segment) string
	// PerFragment lists every group of fragments that starts with a keyframe
	// as its own media segment (about one per GOP), instead of one per file:
	// finer seeking for players that fetch whole media segments.
	PerFragment bool
}

// maxContiguousGap is how far apart the end of one segment and the start of
// the next may be and still play as one timeline.
const maxContiguousGap = time.Second

// WritePlaylist writes an HLS VOD media playlist (RFC 8216) of fMP4 media
// segments over segs, the segments of one stream. Each file's init segment
// is its EXT-X-MAP (written again only when it changes) and its fragments
// the media, by byte range, so no file is copied or cut. A gap in the
// recording, a codec change or a timeline reset is marked with
// EXT-X-DISCONTINUITY, and each file starts with EXT-X-PROGRAM-DATE-TIME so
// players can show wall-clock times. Hold a lease on the segments while the
// playlist is in use.
func WritePlaylist(w io.Writer, segs []Segment, opts PlaylistOptions) error {
	if opts.URL == nil {
		return errors.New("record: playlist: URL is required")
	}
	if len(segs) == 0 {
		return ErrNoMedia
	}
	segs = slices.Clone(segs)
	slices.SortFunc(segs, func(a, b Segment) int { return a.Start.Compare(b.Start) })
	idxs, err := openIndexes(segs)
	if err != nil {
		return err
	}

	type entry struct {
		dur       time.Duration
		off, size int64
	}
	var body bytes.Buffer
	target := 1
	var prev *segIndex
	var prevEnd time.Time
	var prevRefEnd uint64
	for k, x := range idxs {
		first, refEnd, ok := x.refSpan()
		if !ok {
			continue
		}
		ts := x.tracks[x.ref].timescale
		var entries []entry
		for _, f := range x.frags {
			var d time.Duration
			key := false
			for _, r := range f.runs {
				if r.track != x.ref || len(r.samples) == 0 {
					continue
				}
				key = !r.samples[0].nonSync
				var ticks uint64
				for _, s := range r.samples {
					ticks += uint64(s.dur)
				}
				d += ticksToDuration(int64(ticks), ts)
			}
			if n := len(entries); n > 0 && (!opts.PerFragment || !key) {
				entries[n-1].dur += d
				entries[n-1].size = f.off + f.size - entries[n-1].off
				continue
			}
			entries = append(entries, entry{dur: d, off: f.off, size: f.size})
		}
		if len(entries) == 0 {
			continue
		}
		url := opts.URL(segs[k])
		switch {
		case prev == nil:
			writeMap(&body, url, x)
		case !bytes.Equal(prev.init, x.init):
			body.WriteString("#EXT-X-DISCONTINUITY\n")
			writeMap(&body, url, x)
		case first != prevRefEnd || absDuration(x.start.Sub(prevEnd)) > maxContiguousGap:
			body.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&body, "#EXT-X-PROGRAM-DATE-TIME:%s\n", x.start.UTC().Format("2006-01-02T15:04:05.000Z"))
		for _, e := range entries {
			sec := e.dur.Seconds()
			target = max(target, int(math.Round(sec)))
			fmt.Fprintf(&body, "#EXTINF:%.3f,\n#EXT-X-BYTERANGE:%d@%d\n%s\n", sec, e.size, e.off, url)
		}
		prev, prevRefEnd = x, refEnd
		prevEnd = x.start.Add(ticksToDuration(int64(refEnd-first), ts))
	}
	if prev == nil {
		return ErrNoMedia
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n", target)
	bw.Write(body.Bytes())
	bw.WriteString("#EXT-X-ENDLIST\n")
	return bw.Flush()
}

// writeMap writes the EXT-X-MAP of a file: its ftyp+moov.
func writeMap(b *bytes.Buffer, url string, x *segIndex) {
	// RFC 8216 4.2: a quoted-string holds no '"', CR or LF; URLs built
	// from path escaping never do.
	fmt.Fprintf(b, "#EXT-X-MAP:URI=\"%s\",BYTERANGE=\"%d@0\"\n", url, len(x.init))
}
