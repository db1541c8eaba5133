package record

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/nvr/nvr/media/testsrc"
)

// playlistEntry is one media segment of a playlist.
type playlistEntry struct {
	dur       float64
	off, size int64
	url       string
}

func parsePlaylist(t *testing.T, text string) (entries []playlistEntry, maps, discontinuities int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if lines[0] != "#EXTM3U" || lines[len(lines)-1] != "#EXT-X-ENDLIST" {
		t.Fatalf("not a VOD playlist:\n%s", text)
	}
	var cur playlistEntry
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "#EXT-X-MAP:"):
			maps++
		case l == "#EXT-X-DISCONTINUITY":
			discontinuities++
		case strings.HasPrefix(l, "#EXTINF:"):
			cur.dur, _ = strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(l, "#EXTINF:"), ","), 64)
		case strings.HasPrefix(l, "#EXT-X-BYTERANGE:"):
			n, o, _ := strings.Cut(strings.TrimPrefix(l, "#EXT-X-BYTERANGE:"), "@")
			cur.size, _ = strconv.ParseInt(n, 10, 64)
			cur.off, _ = strconv.ParseInt(o, 10, 64)
		case !strings.HasPrefix(l, "#"):
			cur.url = l
			entries = append(entries, cur)
			cur = playlistEntry{}
		}
	}
	return entries, maps, discontinuities
}

func TestPlaylist(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream("cam1")
	r, c := startRecorder(t, s, dir, func(r *Recorder) { r.GapTimeout = 2 * time.Second })
	f := newFeeder(t, s, loadVideo(t, testsrc.ClipH264), loadAudio(t, testsrc.ClipAAC), base)
	f.feed(5 * time.Second)
	f.skew = 3 * time.Second
	f.feed(8 * time.Second)
	finish(t, s, r)
	segs := c.list()
	var total time.Duration
	for _, sg := range segs {
		total += sg.Duration()
	}

	for _, perFragment := range []bool{false, true} {
		t.Run("perFragment="+strconv.FormatBool(perFragment), func(t *testing.T) {
			var b bytes.Buffer
			err := WritePlaylist(&b, segs, PlaylistOptions{URL: func(s Segment) string { return s.Path }, PerFragment: perFragment})
			if err != nil {
				t.Fatal(err)
			}
			entries, maps, disc := parsePlaylist(t, b.String())
			if maps != 1 || disc != 1 {
				t.Errorf("%d maps and %d discontinuities, want 1 and 1 (the gap):\n%s", maps, disc, b.String())
			}
			if !perFragment && len(entries) != len(segs) {
				t.Errorf("%d entries for %d segments", len(entries), len(segs))
			}
			if perFragment && len(entries) < 8 {
				t.Errorf("%d entries, want one per keyframe (8)", len(entries))
			}
			var sum float64
			for _, e := range entries {
				sum += e.dur
				// Each media segment is whole fragments starting with a keyframe.
				data, err := os.ReadFile(e.url)
				if err != nil {
					t.Fatal(err)
				}
				var parts fmp4.Parts
				if err := parts.Unmarshal(data[e.off : e.off+e.size]); err != nil {
					t.Fatalf("range %d@%d of %s: %v", e.size, e.off, e.url, err)
				}
				if parts[0].Tracks[0].Samples[0].IsNonSyncSample {
					t.Errorf("range %d@%d of %s starts without a keyframe", e.size, e.off, e.url)
				}
			}
			if got := time.Duration(sum * float64(time.Second)); absDuration(got-total) > 5*time.Millisecond {
				t.Errorf("EXTINF total %v, recorded %v", got, total)
			}
			if !strings.Contains(b.String(), "#EXT-X-PROGRAM-DATE-TIME:2026-03-14T09:26:53.000Z") {
				t.Errorf("no date-time of the first segment:\n%s", b.String())
			}

			// ffmpeg plays it.
			path := dir + "/vod.m3u8"
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			ffmpeg := requireTool(t, "ffmpeg")
			out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("ffmpeg playing the playlist: %v\n%s", err, out)
			}
		})
	}
}
