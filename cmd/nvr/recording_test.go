package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/record"
	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/testsrc/gbmedia"
	"github.com/nvr/nvr/media/unit"
	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/storage"
)

// The recording tests record the test camera with 2 s segments and read the
// recordings back over the API as a console, a browser and ffmpeg would.

// frame is one video frame of the test clips (25 fps): the precision an
// export's duration is checked to.
const frame = 40 * time.Millisecond

// recordingConfig shortens segments and the retention interval, and turns the
// free-space floor off so that a full disk on a CI machine does not delete
// what a test waits for.
func recordingConfig(c *config.Config) {
	c.Recording.SegmentDuration = config.Duration(2 * time.Second)
	c.Recording.CheckInterval = config.Duration(200 * time.Millisecond)
	c.Recording.MinFreeBytes = 0
}

type scheduleRuleJSON struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

type policyJSON struct {
	ChannelID int64              `json:"channel_id"`
	Mode      string             `json:"mode"`
	Schedule  []scheduleRuleJSON `json:"schedule"`
	MaxAge    string             `json:"max_age"`
	UpdatedAt *time.Time         `json:"updated_at"`
}

type segJSON struct {
	ID    int64     `json:"id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Bytes int64     `json:"bytes"`
}

type rangeJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type recListJSON struct {
	Ranges   []rangeJSON `json:"ranges"`
	Segments []segJSON   `json:"segments"`
}

type recorderJSON struct {
	ChannelID        int64  `json:"channel_id"`
	Stream           string `json:"stream"`
	Mode             string `json:"mode"`
	Recording        bool   `json:"recording"`
	WriteRate        int64  `json:"write_rate_bps"`
	BytesWritten     int64  `json:"bytes_written"`
	Segments         int64  `json:"segments_written"`
	DroppedFragments int64  `json:"dropped_fragments"`
	LastError        string `json:"last_error"`
}

type storageJSON struct {
	UsedBytes  int64          `json:"used_bytes"`
	Segments   int64          `json:"segments"`
	FreeBytes  *int64         `json:"free_bytes"`
	TotalBytes *int64         `json:"total_bytes"`
	Oldest     *time.Time     `json:"oldest_recording"`
	Channels   []recorderJSON `json:"channels"`
}

// rangeQuery is the start and end query of a recording route.
func rangeQuery(from, to time.Time) string {
	f := func(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }
	return "start=" + f(from) + "&end=" + f(to)
}

func recPath(chID int64, route string) string {
	return fmt.Sprintf("/api/v1/channels/%d/%s", chID, route)
}

// record sets a channel's recording policy.
func (ta *testApp) record(chID int64, policy map[string]any) policyJSON {
	ta.t.Helper()
	var p policyJSON
	ta.api("PUT", recPath(chID, "recording"), policy, http.StatusOK, &p)
	return p
}

// recordingsOf lists a channel's recordings over the last hour.
func (ta *testApp) recordingsOf(chID int64) recListJSON {
	ta.t.Helper()
	var l recListJSON
	now := time.Now()
	ta.api("GET", recPath(chID, "recordings?"+rangeQuery(now.Add(-time.Hour), now.Add(time.Minute))), nil, http.StatusOK, &l)
	return l
}

// waitSegments waits until a channel has at least n indexed segments.
func (ta *testApp) waitSegments(chID int64, n int) recListJSON {
	ta.t.Helper()
	var l recListJSON
	eventually(ta.t, fmt.Sprintf("%d segments", n), func() bool {
		l = ta.recordingsOf(chID)
		return len(l.Segments) >= n
	}, func() string { return fmt.Sprintf("%+v", l) })
	return l
}

// storage returns GET /api/v1/storage, and the channel's entry.
func (ta *testApp) storage(chID int64) (storageJSON, recorderJSON) {
	ta.t.Helper()
	var s storageJSON
	ta.api("GET", "/api/v1/storage", nil, http.StatusOK, &s)
	for _, c := range s.Channels {
		if c.ChannelID == chID {
			return s, c
		}
	}
	return s, recorderJSON{}
}

// get fetches a path with the token in the query and extra headers, and
// returns the response with its whole body.
func (ta *testApp) get(method, path string, header map[string]string) (*http.Response, []byte) {
	ta.t.Helper()
	u := ta.base + path
	if strings.Contains(path, "?") {
		u += "&token=" + ta.token
	} else {
		u += "?token=" + ta.token
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		ta.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ta.http.Do(req)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, b
}

// mp4Export is what the tests check of an exported MP4.
type mp4Export struct {
	duration  time.Duration // mvhd: what players present
	samples   int           // video samples
	mediaDur  time.Duration // video samples' durations
	firstIDR  bool          // the first video sample is a sync sample holding an IDR
	width     int
	hasAudio  bool
	videoRate uint32
}

// parseExport reads a progressive MP4 with mediacommon's reader (samples) and
// a box walk (the movie duration, which applies the edit lists).
func parseExport(t *testing.T, b []byte) mp4Export {
	t.Helper()
	var pres pmp4.Presentation
	if err := pres.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("the export is not an MP4 mediacommon reads: %v", err)
	}
	var out mp4Export
	for _, tr := range pres.Tracks {
		c, ok := tr.Codec.(*fmp4.CodecH264)
		if !ok {
			out.hasAudio = true
			continue
		}
		var sps h264.SPS
		if err := sps.Unmarshal(c.SPS); err == nil {
			out.width = sps.Width()
		}
		out.samples = len(tr.Samples)
		out.videoRate = tr.TimeScale
		var ticks uint64
		for _, s := range tr.Samples {
			ticks += uint64(s.Duration)
		}
		out.mediaDur = time.Duration(ticks * uint64(time.Second) / uint64(tr.TimeScale))
		if len(tr.Samples) > 0 {
			s := tr.Samples[0]
			p, err := s.GetPayload()
			if err != nil {
				t.Fatal(err)
			}
			var au h264.AVCC
			if err := au.Unmarshal(p); err != nil {
				t.Fatalf("first sample: %v", err)
			}
			out.firstIDR = !s.IsNonSyncSample && h264.IsRandomAccess(au)
		}
	}
	out.duration = movieDuration(t, b)
	return out
}

// movieDuration reads the mvhd duration of an MP4.
func movieDuration(t *testing.T, b []byte) time.Duration {
	t.Helper()
	box := func(b []byte, typ string) []byte {
		for off := 0; off+8 <= len(b); {
			size := int(binary.BigEndian.Uint32(b[off:]))
			if size < 8 || off+size > len(b) {
				return nil
			}
			if string(b[off+4:off+8]) == typ {
				return b[off+8 : off+size]
			}
			off += size
		}
		return nil
	}
	mvhd := box(box(b, "moov"), "mvhd")
	if len(mvhd) < 32 {
		t.Fatal("no mvhd")
	}
	var scale, dur uint64
	if mvhd[0] == 1 {
		scale, dur = uint64(binary.BigEndian.Uint32(mvhd[20:])), binary.BigEndian.Uint64(mvhd[24:])
	} else {
		scale, dur = uint64(binary.BigEndian.Uint32(mvhd[12:])), uint64(binary.BigEndian.Uint32(mvhd[16:]))
	}
	return time.Duration(dur * uint64(time.Second) / scale)
}

// segmentWidth fetches a segment file and returns its video width.
func (ta *testApp) segmentWidth(id int64) int {
	ta.t.Helper()
	resp, b := ta.get("GET", fmt.Sprintf("/api/v1/recordings/%d.mp4", id), nil)
	if resp.StatusCode != http.StatusOK {
		ta.t.Fatalf("segment %d: %d %s", id, resp.StatusCode, b)
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		ta.t.Fatalf("segment %d: %v", id, err)
	}
	for _, tr := range init.Tracks {
		if c, ok := tr.Codec.(*fmp4.CodecH264); ok {
			var sps h264.SPS
			if err := sps.Unmarshal(c.SPS); err != nil {
				ta.t.Fatal(err)
			}
			return sps.Width()
		}
	}
	ta.t.Fatalf("segment %d has no H.264 track", id)
	return 0
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// TestRecording records the test camera continuously with 2 s segments and
// uses every retrieval route: the index, exports with Range and ETag, the
// HLS VOD playlist and its segment files, the days, the storage figures and
// deletion; then turns recording off.
func TestRecording(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	ta := startApp(t, recordingConfig)
	_, ch := ta.addDevice("cam", src.URL("cam"))

	var p policyJSON
	ta.api("GET", recPath(ch.ID, "recording"), nil, http.StatusOK, &p)
	if p.Mode != "off" || len(p.Schedule) != 0 || p.MaxAge != "0" || p.ChannelID != ch.ID {
		t.Errorf("default policy %+v", p)
	}
	for name, body := range map[string]any{
		"bad mode":          map[string]any{"mode": "sometimes"},
		"no mode":           map[string]any{},
		"schedule missing":  map[string]any{"mode": "schedule"},
		"schedule empty":    map[string]any{"mode": "schedule", "schedule": []any{}},
		"bad day":           map[string]any{"mode": "schedule", "schedule": []any{map[string]any{"days": []any{"someday"}, "start": "08:00", "end": "09:00"}}},
		"day 8":             map[string]any{"mode": "schedule", "schedule": []any{map[string]any{"days": []any{8}, "start": "08:00", "end": "09:00"}}},
		"bad time":          map[string]any{"mode": "schedule", "schedule": []any{map[string]any{"days": []any{"mon"}, "start": "8am", "end": "09:00"}}},
		"no days":           map[string]any{"mode": "schedule", "schedule": []any{map[string]any{"days": []any{}, "start": "08:00", "end": "09:00"}}},
		"empty range":       map[string]any{"mode": "schedule", "schedule": []any{map[string]any{"days": []any{"mon"}, "start": "09:00", "end": "09:00"}}},
		"negative max age":  map[string]any{"mode": "continuous", "max_age": "-1h"},
		"max age not a age": map[string]any{"mode": "continuous", "max_age": "forever"},
		"schedule a string": map[string]any{"mode": "schedule", "schedule": "mon"},
	} {
		st, b := ta.do("PUT", recPath(ch.ID, "recording"), ta.token, body)
		wantError(t, name, st, b, http.StatusBadRequest, "bad_request")
	}
	st, b := ta.do("PUT", recPath(ch.ID, "recording"), ta.token, "{")
	wantError(t, "not JSON", st, b, http.StatusBadRequest, "invalid_json")
	st, b = ta.do("PUT", recPath(99999, "recording"), ta.token, map[string]any{"mode": "continuous"})
	wantError(t, "unknown channel", st, b, http.StatusNotFound, "not_found")
	st, b = ta.do("GET", recPath(99999, "recordings/days"), ta.token, nil)
	wantError(t, "unknown channel days", st, b, http.StatusNotFound, "not_found")

	p = ta.record(ch.ID, map[string]any{"mode": "continuous", "max_age": "30d"})
	if p.Mode != "continuous" || p.MaxAge != "30d" || p.UpdatedAt == nil {
		t.Errorf("policy %+v", p)
	}
	ta.api("GET", recPath(ch.ID, "recording"), nil, http.StatusOK, &p)
	if p.Mode != "continuous" || p.MaxAge != "30d" {
		t.Errorf("stored policy %+v", p)
	}

	// The stream runs without a viewer: the recorder is its one reader.
	eventually(t, "the recorded stream running", func() bool {
		s, ok := ta.streamInfo(ch.Stream)
		return ok && s.Readers == 1 && s.Status == "online"
	}, nil)

	l := ta.waitSegments(ch.ID, 4)
	segs := l.Segments
	t.Logf("segments %+v", segs)
	if len(l.Ranges) != 1 || !l.Ranges[0].Start.Equal(segs[0].Start) || !l.Ranges[0].End.Equal(segs[len(segs)-1].End) {
		t.Errorf("ranges %+v, want one from the first segment's start to the last one's end", l.Ranges)
	}
	for i := 1; i < len(segs); i++ {
		if !segs[i].Start.Equal(segs[i-1].End) {
			t.Errorf("segment %d starts at %v, the previous ended at %v", i, segs[i].Start, segs[i-1].End)
		}
		if d := segs[i].End.Sub(segs[i].Start); i < len(segs)-1 && (d < 2*time.Second-frame || d > 4*time.Second) {
			t.Errorf("segment %d lasts %v, want about 2 s (cut at the keyframe after)", i, d)
		}
	}
	// A range clips the ranges, not the segments.
	var clipped recListJSON
	cs, ce := segs[1].Start.Add(100*time.Millisecond), segs[2].Start.Add(100*time.Millisecond)
	ta.api("GET", recPath(ch.ID, "recordings?"+rangeQuery(cs, ce)), nil, http.StatusOK, &clipped)
	if len(clipped.Segments) != 2 || len(clipped.Ranges) != 1 || !clipped.Ranges[0].Start.Equal(cs) || !clipped.Ranges[0].End.Equal(ce) {
		t.Errorf("clipped list %+v", clipped)
	}

	t.Run("export", func(t *testing.T) {
		ta := ta.with(t)
		start, end := segs[1].Start.Add(300*time.Millisecond), segs[3].Start.Add(700*time.Millisecond)
		path := recPath(ch.ID, "recordings/export.mp4?"+rangeQuery(start, end))
		resp, body := ta.get("GET", path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %d %s", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" {
			t.Errorf("Content-Type %q", ct)
		}
		etag := resp.Header.Get("ETag")
		if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || etag == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("headers %v for %d bytes", resp.Header, len(body))
		}
		x := parseExport(t, body)
		t.Logf("export of %v: %d bytes, %+v", end.Sub(start), len(body), x)
		if absDur(x.duration-end.Sub(start)) > frame {
			t.Errorf("presented duration %v, want %v", x.duration, end.Sub(start))
		}
		if !x.firstIDR {
			t.Error("the first video sample is not an IDR")
		}
		// The file starts at the keyframe before start (one a second).
		if x.mediaDur < end.Sub(start) || x.mediaDur > end.Sub(start)+time.Second+frame {
			t.Errorf("video media lasts %v for a range of %v", x.mediaDur, end.Sub(start))
		}
		if !x.hasAudio || x.width != 320 {
			t.Errorf("tracks: audio %v, width %d", x.hasAudio, x.width)
		}

		// Range requests return the matching bytes.
		for _, r := range [][2]int{{0, 99}, {1000, 5999}, {len(body) - 500, len(body) - 1}} {
			resp, part := ta.get("GET", path, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", r[0], r[1])})
			want := fmt.Sprintf("bytes %d-%d/%d", r[0], r[1], len(body))
			if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != want {
				t.Errorf("Range %v: %d, Content-Range %q, want 206 %q", r, resp.StatusCode, resp.Header.Get("Content-Range"), want)
			}
			if !bytes.Equal(part, body[r[0]:r[1]+1]) {
				t.Errorf("Range %v: the bytes differ from the whole file's", r)
			}
		}
		resp, part := ta.get("GET", path, map[string]string{"Range": "bytes=-100"})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[len(body)-100:]) {
			t.Errorf("suffix range: %d", resp.StatusCode)
		}
		// The ETag is stable: a conditional request is answered 304, If-Range
		// with it gives the range.
		if resp, _ := ta.get("GET", path, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
		}
		if resp, _ := ta.get("GET", path, map[string]string{"Range": "bytes=0-9", "If-Range": etag}); resp.StatusCode != http.StatusPartialContent {
			t.Errorf("If-Range with the ETag: %d, want 206", resp.StatusCode)
		}
		if resp, _ := ta.get("GET", path, map[string]string{"Range": "bytes=0-9", "If-Range": `"other"`}); resp.StatusCode != http.StatusOK {
			t.Errorf("If-Range with another ETag: %d, want 200", resp.StatusCode)
		}
		head, hb := ta.get("HEAD", path, nil)
		if head.StatusCode != http.StatusOK || head.Header.Get("Content-Length") != strconv.Itoa(len(body)) || len(hb) != 0 {
			t.Errorf("HEAD: %d %v", head.StatusCode, head.Header)
		}
		dl, _ := ta.get("GET", path+"&download=1", nil)
		if cd := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") || !strings.Contains(cd, ".mp4") {
			t.Errorf("Content-Disposition %q", cd)
		}
		// Without a token: 401.
		st, b := ta.do("GET", path, "", nil)
		wantError(t, "export without a token", st, b, http.StatusUnauthorized, "unauthorized")

		// A whole segment: the presented duration is the segment's.
		whole := recPath(ch.ID, "recordings/export.mp4?"+rangeQuery(segs[2].Start, segs[2].End))
		resp, body = ta.get("GET", whole, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export of a segment: %d", resp.StatusCode)
		}
		if x := parseExport(t, body); absDur(x.duration-segs[2].End.Sub(segs[2].Start)) > frame || !x.firstIDR {
			t.Errorf("export of segment 2: %+v", x)
		}

		now := time.Now()
		for name, c := range map[string]struct {
			query       string
			status      int
			code, which string
		}{
			"too long":      {rangeQuery(now.Add(-7*time.Hour), now), http.StatusBadRequest, "bad_request", "longer than"},
			"backwards":     {rangeQuery(now, now.Add(-time.Minute)), http.StatusBadRequest, "bad_request", "after start"},
			"no start":      {"end=" + url.QueryEscape(now.Format(time.RFC3339)), http.StatusBadRequest, "bad_request", "start is required"},
			"bad start":     {"start=yesterday&end=" + url.QueryEscape(now.Format(time.RFC3339)), http.StatusBadRequest, "bad_request", "RFC 3339"},
			"no recordings": {rangeQuery(now.Add(-400*24*time.Hour), now.Add(-400*24*time.Hour+time.Hour)), http.StatusNotFound, "not_found", "no recording"},
		} {
			st, b := ta.do("GET", recPath(ch.ID, "recordings/export.mp4?"+c.query), ta.token, nil)
			if e := wantError(t, name, st, b, c.status, c.code); !strings.Contains(e.Error.Message, c.which) {
				t.Errorf("%s: message %q, want %q", name, e.Error.Message, c.which)
			}
		}
	})

	t.Run("playlist", func(t *testing.T) {
		ta := ta.with(t)
		// A player gets the playlist with the token in its URL and fetches
		// what it lists with the token those URLs carry.
		u := ta.base + recPath(ch.ID, "recordings/index.m3u8?"+rangeQuery(segs[1].Start.Add(time.Second), segs[3].Start.Add(time.Second))) + "&token=" + ta.token
		resp, err := ta.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
			t.Fatalf("playlist: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), text)
		}
		t.Logf("playlist:\n%s", text)
		lines := strings.Split(strings.TrimSpace(string(text)), "\n")
		if lines[0] != "#EXTM3U" || lines[len(lines)-1] != "#EXT-X-ENDLIST" || !strings.Contains(string(text), "#EXT-X-PLAYLIST-TYPE:VOD") {
			t.Errorf("not a VOD playlist")
		}
		var uris []string
		var extinf time.Duration
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "#EXTINF:"):
				sec, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(l, "#EXTINF:"), ","), 64)
				extinf += time.Duration(sec * float64(time.Second))
			case l != "" && !strings.HasPrefix(l, "#"):
				if !slices.Contains(uris, l) {
					uris = append(uris, l)
				}
			}
		}
		var want []string
		for _, s := range segs[1:4] {
			want = append(want, fmt.Sprintf("/api/v1/recordings/%d.mp4?token=%s", s.ID, url.QueryEscape(ta.token)))
		}
		if !slices.Equal(uris, want) {
			t.Errorf("playlist lists %v, want %v", uris, want)
		}
		if total := segs[3].End.Sub(segs[1].Start); absDur(extinf-total) > 3*frame {
			t.Errorf("EXTINF total %v, want %v", extinf, total)
		}
		if !strings.Contains(string(text), "#EXT-X-MAP:URI=") {
			t.Errorf("no EXT-X-MAP")
		}
		// A segment URL answers the file, and ranges of it.
		base, _ := url.Parse(u)
		seg, _ := base.Parse(uris[0])
		resp, err = ta.http.Get(seg.String())
		if err != nil {
			t.Fatal(err)
		}
		file, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" || int64(len(file)) != segs[1].Bytes {
			t.Errorf("segment: %d %q, %d bytes, want %d", resp.StatusCode, resp.Header.Get("Content-Type"), len(file), segs[1].Bytes)
		}
		req, _ := http.NewRequest("GET", seg.String(), nil)
		req.Header.Set("Range", "bytes=8-15")
		resp, err = ta.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, file[8:16]) {
			t.Errorf("segment range: %d", resp.StatusCode)
		}
		st, b := ta.do("GET", "/api/v1/recordings/999999.mp4", ta.token, nil)
		wantError(t, "unknown segment", st, b, http.StatusNotFound, "not_found")
	})

	t.Run("days", func(t *testing.T) {
		ta := ta.with(t)
		var d struct {
			Days []struct {
				Day      string  `json:"day"`
				Seconds  float64 `json:"seconds"`
				Segments int     `json:"segments"`
			} `json:"days"`
		}
		ta.api("GET", recPath(ch.ID, "recordings/days?month="+time.Now().Format("2006-01")), nil, http.StatusOK, &d)
		var sec float64
		n := 0
		for _, day := range d.Days {
			sec += day.Seconds
			n += day.Segments
		}
		var want time.Duration
		for _, s := range segs {
			want += s.End.Sub(s.Start)
		}
		// Recording goes on: there may be more by now.
		if len(d.Days) == 0 || d.Days[len(d.Days)-1].Day != time.Now().Format("2006-01-02") && d.Days[len(d.Days)-1].Day != segs[0].Start.Local().Format("2006-01-02") ||
			sec < want.Seconds()-0.001 || n < len(segs) {
			t.Errorf("days %+v; want at least %v in %d segments", d.Days, want, len(segs))
		}
		st, b := ta.do("GET", recPath(ch.ID, "recordings/days?month=2026-13"), ta.token, nil)
		wantError(t, "bad month", st, b, http.StatusBadRequest, "bad_request")
		ta.api("GET", recPath(ch.ID, "recordings/days?month=2001-01"), nil, http.StatusOK, &d)
		if len(d.Days) != 0 {
			t.Errorf("days of 2001: %+v", d.Days)
		}
	})

	t.Run("storage", func(t *testing.T) {
		ta := ta.with(t)
		var s storageJSON
		var c recorderJSON
		eventually(t, "a write rate", func() bool {
			s, c = ta.storage(ch.ID)
			return c.WriteRate > 0
		}, func() string { return fmt.Sprintf("%+v", s) })
		t.Logf("storage %+v, channel %+v", s, c)
		if !c.Recording || c.Mode != "continuous" || c.Stream != ch.Stream || c.DroppedFragments != 0 || c.LastError != "" || c.BytesWritten == 0 {
			t.Errorf("channel %+v", c)
		}
		// The clip is about 270 kbit/s with its audio.
		if c.WriteRate < 100e3 || c.WriteRate > 1e6 {
			t.Errorf("write rate %d bit/s", c.WriteRate)
		}
		if s.UsedBytes <= 0 || s.Segments < int64(len(segs)) || s.FreeBytes == nil || *s.FreeBytes <= 0 ||
			s.TotalBytes == nil || *s.TotalBytes < *s.FreeBytes || s.Oldest == nil || !s.Oldest.Equal(segs[0].Start) {
			t.Errorf("storage %+v", s)
		}
	})

	t.Run("delete", func(t *testing.T) {
		ta := ta.with(t)
		// A range cutting into segment 3 leaves it whole.
		var del struct{ Deleted, Partial, Leased int }
		ta.api("DELETE", recPath(ch.ID, "recordings?"+rangeQuery(segs[3].Start.Add(500*time.Millisecond), segs[3].End)), nil, http.StatusOK, &del)
		if del.Deleted != 0 || del.Partial != 1 {
			t.Errorf("delete inside a segment: %+v", del)
		}
		ta.api("DELETE", recPath(ch.ID, "recordings?"+rangeQuery(segs[0].Start, segs[2].End)), nil, http.StatusOK, &del)
		if del.Deleted != 3 || del.Partial != 0 || del.Leased != 0 {
			t.Errorf("delete of three segments: %+v", del)
		}
		l := ta.recordingsOf(ch.ID)
		if len(l.Segments) == 0 || l.Segments[0].ID != segs[3].ID || !l.Ranges[0].Start.Equal(segs[3].Start) {
			t.Errorf("after the delete: %+v", l)
		}
		for _, s := range segs[:3] {
			st, b := ta.do("GET", fmt.Sprintf("/api/v1/recordings/%d.mp4", s.ID), ta.token, nil)
			wantError(t, "deleted segment", st, b, http.StatusNotFound, "not_found")
		}
		st, b := ta.do("DELETE", recPath(ch.ID, "recordings"), ta.token, nil)
		wantError(t, "delete without a range", st, b, http.StatusBadRequest, "bad_request")
	})

	// Off: the recorder stops, its last segment is indexed, and the stream,
	// without a viewer, stops.
	before := len(ta.recordingsOf(ch.ID).Segments)
	ta.record(ch.ID, map[string]any{"mode": "off"})
	if _, c := ta.storage(ch.ID); c.Recording {
		t.Errorf("still recording after off: %+v", c)
	}
	if after := len(ta.recordingsOf(ch.ID).Segments); after <= before {
		t.Errorf("%d segments after off, %d before: the open one was not indexed", after, before)
	}
	eventually(t, "the stream to stop", func() bool {
		_, ok := ta.streamInfo(ch.Stream)
		return !ok
	}, nil)
}

// TestRecordingSchedule records while a weekly schedule covers the time.
func TestRecordingSchedule(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, "")
	ta := startApp(t, recordingConfig)
	_, ch := ta.addDevice("cam", src.URL("cam"))

	allWeek := []any{"mon", "tue", "wed", "thu", "fri", "sat", 7}
	p := ta.record(ch.ID, map[string]any{"mode": "schedule", "max_age": 3600,
		"schedule": []any{map[string]any{"days": allWeek, "start": "00:00", "end": "24:00"}}})
	if len(p.Schedule) != 1 || !slices.Equal(p.Schedule[0].Days, []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) ||
		p.Schedule[0].End != "24:00" || p.MaxAge != "1h" {
		t.Errorf("policy %+v", p)
	}
	eventually(t, "recording in the schedule", func() bool {
		_, c := ta.storage(ch.ID)
		return c.Recording && c.BytesWritten > 0
	}, nil)

	// A window in six hours: not now.
	from := time.Now().Add(6 * time.Hour)
	ta.record(ch.ID, map[string]any{"mode": "schedule",
		"schedule": []any{map[string]any{"days": allWeek, "start": from.Format("15:04"), "end": from.Add(time.Hour).Format("15:04")}}})
	if _, c := ta.storage(ch.ID); c.Recording || c.Mode != "schedule" {
		t.Errorf("recording outside the schedule: %+v", c)
	}
}

// TestRecordingChannelDeleted: deleting a recorded camera stops its recorder,
// and its files go with its index rows.
func TestRecordingChannelDeleted(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, "")
	var data string
	ta := startApp(t, recordingConfig, func(c *config.Config) { data = c.DataDir })
	d, ch := ta.addDevice("cam", src.URL("cam"))
	ta.record(ch.ID, map[string]any{"mode": "continuous"})
	ta.waitSegments(ch.ID, 2)
	files := func() []string {
		m, _ := filepath.Glob(filepath.Join(data, "recordings", ch.Stream, "*", "*.mp4*"))
		return m
	}
	if len(files()) < 2 {
		t.Fatalf("files %v", files())
	}
	ta.api("DELETE", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil, http.StatusNoContent, nil)
	eventually(t, "the deleted channel's files removed", func() bool { return len(files()) == 0 }, func() string { return fmt.Sprint(files()) })
	var s storageJSON
	eventually(t, "the deleted channel gone from the storage figures", func() bool {
		s, _ = ta.storage(ch.ID)
		return len(s.Channels) == 0 && s.Segments == 0
	}, func() string { return fmt.Sprintf("%+v", s) })
	st, b := ta.do("GET", recPath(ch.ID, "recording"), ta.token, nil)
	wantError(t, "policy of a deleted channel", st, b, http.StatusNotFound, "not_found")
}

// switchProxy forwards TCP connections to a target it can switch, cutting
// the connections it has: one camera URL that stands for two cameras in turn.
type switchProxy struct {
	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	target string
	conns  map[net.Conn]bool
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *switchProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		p.wg.Add(2)
		go pipe(c, up)
		go pipe(up, c)
	}
}

// switchTo sends new connections to target ("" refuses them) and cuts the
// current ones.
func (p *switchProxy) switchTo(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	for c := range p.conns {
		c.Close()
	}
}

func (p *switchProxy) close() {
	p.ln.Close()
	p.switchTo("")
	p.wg.Wait()
}

// TestRecordingCodecChangeAndOutage: a camera that comes back with another
// resolution starts a new segment, and an outage longer than the recorder's
// gap timeout leaves a gap in the ranges, with whole files on both sides.
func TestRecordingCodecChangeAndOutage(t *testing.T) {
	t.Parallel()
	small := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	hd := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264HD, testsrc.ClipAAC)
	proxy := newSwitchProxy(t, small.Addr())
	ta := startApp(t, recordingConfig)
	_, ch := ta.addDevice("cam", "rtsp://"+proxy.ln.Addr().String()+"/cam")
	ta.record(ch.ID, map[string]any{"mode": "continuous"})
	first := ta.waitSegments(ch.ID, 2).Segments

	// The camera restarts with 720p: the segment ends and the next has the
	// new parameters.
	proxy.switchTo(hd.Addr())
	var l recListJSON
	eventually(t, "a 720p segment", func() bool {
		l = ta.recordingsOf(ch.ID)
		n := len(l.Segments)
		return n > len(first)+1 && ta.segmentWidth(l.Segments[n-1].ID) == 1280
	}, func() string { return fmt.Sprintf("%+v", l) })
	widths := map[int]int{}
	var prev int
	for i, s := range l.Segments {
		w := ta.segmentWidth(s.ID)
		widths[w]++
		if i > 0 && w < prev {
			t.Errorf("segment %d is %d wide after a %d one", i, w, prev)
		}
		prev = w
	}
	if widths[320] < 2 || widths[1280] < 1 || len(widths) != 2 {
		t.Errorf("segment widths %v", widths)
	}
	// When the camera came back within the gap timeout (not on a loaded
	// machine), the cut is the codec change's, not a gap's.
	if !strings.Contains(ta.logs.String(), "gap in the source") {
		wantLog(t, ta, "codec parameters changed, new segment")
	}

	// An outage of 7 s (the gap timeout is 5 s): two ranges.
	ta.waitSegments(ch.ID, len(l.Segments)+1)
	proxy.switchTo("")
	down := time.Now()
	time.Sleep(7 * time.Second)
	proxy.switchTo(hd.Addr())
	up := time.Now()
	eventually(t, "recording after the outage", func() bool {
		l = ta.recordingsOf(ch.ID)
		return len(l.Segments) > 0 && l.Segments[len(l.Segments)-1].Start.After(up)
	}, func() string { return fmt.Sprintf("%+v", l) })
	t.Logf("ranges %+v", l.Ranges)
	if len(l.Ranges) < 2 {
		t.Fatalf("ranges %+v, want a gap", l.Ranges)
	}
	gapStart, gapEnd := l.Ranges[len(l.Ranges)-2].End, l.Ranges[len(l.Ranges)-1].Start
	if gapStart.After(down.Add(3*time.Second)) || gapEnd.Before(up) || gapEnd.Sub(gapStart) < 4*time.Second {
		t.Errorf("gap %v–%v, the camera was away %v–%v", gapStart, gapEnd, down, up)
	}
	// An export across the gap plays the time of the gap as a long frame.
	start, end := gapStart.Add(-time.Second), gapEnd.Add(time.Second)
	resp, body := ta.get("GET", recPath(ch.ID, "recordings/export.mp4?"+rangeQuery(start, end)), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export across the gap: %d %s", resp.StatusCode, body)
	}
	if x := parseExport(t, body); absDur(x.duration-end.Sub(start)) > frame || !x.firstIDR {
		t.Errorf("export across the gap: %+v, want %v", x, end.Sub(start))
	}
}

// smallWindowClient is an HTTP client whose sockets have a tiny receive
// buffer, so that a response it does not read holds its handler.
func smallWindowClient() *http.Client {
	d := &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true}}
}

// TestRecordingRetention deletes by age, by quota and for free space, oldest
// first, and never a segment an export is reading.
func TestRecordingRetention(t *testing.T) {
	t.Parallel()

	t.Run("age", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, "")
		ta := startApp(t, recordingConfig)
		_, ch := ta.addDevice("cam", src.URL("cam"))
		ta.record(ch.ID, map[string]any{"mode": "continuous", "max_age": "3s"})
		var seen []int64
		var l recListJSON
		eventually(t, "the first segments to expire", func() bool {
			l = ta.recordingsOf(ch.ID)
			for _, s := range l.Segments {
				if !slices.Contains(seen, s.ID) {
					seen = append(seen, s.ID)
				}
			}
			return len(seen) >= 5 && len(l.Segments) > 0 && l.Segments[0].ID > seen[1]
		}, func() string { return fmt.Sprintf("seen %v, now %+v", seen, l.Segments) })
		now := time.Now()
		for _, s := range l.Segments {
			// 3 s, plus the retention interval and the request's time.
			if now.Sub(s.End) > 3*time.Second+time.Second {
				t.Errorf("segment %d ended %v ago; max age 3 s", s.ID, now.Sub(s.End))
			}
		}
		wantLog(t, ta, "retention deleted segments")
	})

	t.Run("quota and lease", func(t *testing.T) {
		t.Parallel()
		// 720p at 2 Mbit/s: a 2 s segment is about 0.55 MB; the quota keeps
		// about nine.
		src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264HD, "")
		const quota = 5 << 20
		ta := startApp(t, recordingConfig, func(c *config.Config) { c.Recording.MaxBytes = quota })
		_, ch := ta.addDevice("cam", src.URL("cam"))
		ta.record(ch.ID, map[string]any{"mode": "continuous"})
		held := ta.waitSegments(ch.ID, 7).Segments[:7]

		// An export of the first seven segments (3.5 MB, more than the
		// sockets buffer), read one byte and then not at all: its handler
		// holds their lease.
		slow := smallWindowClient()
		defer slow.CloseIdleConnections()
		resp, err := slow.Get(ta.base + recPath(ch.ID, "recordings/export.mp4?"+rangeQuery(held[0].Start, held[6].End)) + "&token=" + ta.token)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength < 2500<<10 {
			t.Fatalf("export: %d, %d bytes", resp.StatusCode, resp.ContentLength)
		}
		if _, err := resp.Body.Read(make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		var del struct{ Deleted, Leased int }
		ta.api("DELETE", recPath(ch.ID, "recordings?"+rangeQuery(held[0].Start, held[0].End)), nil, http.StatusOK, &del)
		if del.Deleted != 0 || del.Leased != 1 {
			t.Fatalf("deleting a segment of the export being sent: %+v, want it leased", del)
		}

		// Recording goes on past the quota: newer segments go, oldest
		// first, the leased ones stay.
		var seen []int64
		var l recListJSON
		eventually(t, "segments after the leased ones deleted", func() bool {
			l = ta.recordingsOf(ch.ID)
			for _, s := range l.Segments {
				if !slices.Contains(seen, s.ID) {
					seen = append(seen, s.ID)
				}
			}
			return len(l.Segments) > 7 && l.Segments[7].ID > held[6].ID+1
		}, func() string { return fmt.Sprintf("seen %v, now %+v", seen, l.Segments) })
		for i, s := range held {
			if l.Segments[i].ID != s.ID {
				t.Fatalf("the leased segments were deleted: %+v", l.Segments)
			}
		}
		// What is left besides them is the newest: no hole.
		rest := l.Segments[7:]
		for i, s := range rest {
			if i > 0 && s.ID != rest[i-1].ID+1 {
				t.Errorf("kept %+v: not the newest segments", rest)
			}
		}
		var used int64
		for _, s := range l.Segments {
			used += s.Bytes
		}
		// The quota holds, but for the leased segments and the one indexed
		// since the last pass.
		if used > quota+rest[len(rest)-1].Bytes {
			t.Errorf("%d bytes kept besides the leased segments, quota %d", used, quota)
		}

		// The export ends: the lease goes, and so do the oldest segments.
		resp.Body.Close()
		eventually(t, "the released segments deleted", func() bool {
			l = ta.recordingsOf(ch.ID)
			return len(l.Segments) > 0 && l.Segments[0].ID > held[0].ID
		}, func() string { return fmt.Sprintf("%+v", l.Segments) })
	})

	t.Run("free space", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, "")
		ta := startApp(t, recordingConfig, func(c *config.Config) { c.Recording.MinFreeBytes = 1 << 60 })
		_, ch := ta.addDevice("cam", src.URL("cam"))
		ta.record(ch.ID, map[string]any{"mode": "continuous"})
		var c recorderJSON
		eventually(t, "three segments written", func() bool {
			_, c = ta.storage(ch.ID)
			return c.Segments >= 3
		}, func() string { return fmt.Sprintf("%+v", c) })
		var s storageJSON
		eventually(t, "every segment deleted for space", func() bool {
			s, _ = ta.storage(ch.ID)
			return s.Segments == 0 && s.UsedBytes == 0
		}, func() string { return fmt.Sprintf("%+v", s) })
		wantLog(t, ta, "retention deleted segments")
	})
}

// TestRecordingCrash kills the real binary while it records, restarts it,
// and finds the unfinished segment recovered, indexed and exportable; the
// policy survives, so recording resumes.
func TestRecordingCrash(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "nvr.yaml")
	yaml := "recording:\n  segment_duration: 1m\n  check_interval: 1s\n  min_free_bytes: 0\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := binEnv("NVR_HTTP_ADDR=127.0.0.1:0", "NVR_DATA_DIR="+data, "NVR_ADMIN_PASSWORD=crash-pw")
	p, addr := startBinary(t, env, "-c", cfg)
	ta := clientFor(t, addr)
	ta.token = ta.login("admin", "crash-pw")
	_, ch := ta.addDevice("cam", src.URL("cam"))
	ta.record(ch.ID, map[string]any{"mode": "continuous"})
	var c recorderJSON
	eventually(t, "3 s of media written", func() bool {
		_, c = ta.storage(ch.ID)
		return c.BytesWritten > 3*30<<10
	}, func() string { return fmt.Sprintf("%+v", c) })

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	killed := time.Now()
	parts, _ := filepath.Glob(filepath.Join(data, "recordings", "ch*", "*", "*.mp4.part"))
	if len(parts) != 1 {
		t.Fatalf("part files after the kill: %v", parts)
	}

	p2, addr := startBinary(t, env, "-c", cfg)
	ta = clientFor(t, addr)
	ta.token = ta.login("admin", "crash-pw")
	l := ta.recordingsOf(ch.ID)
	if len(l.Segments) == 0 {
		t.Fatalf("nothing indexed after the restart")
	}
	seg := l.Segments[0]
	t.Logf("recovered %+v (killed at %v)", seg, killed)
	// Every byte recovered arrived before the kill, but End is no wall-clock
	// reading: it is the first unit's arrival (rounded to the ms) plus the
	// media span, ahead of the wall clock by as much as that first unit came
	// late (a few ms on a loaded machine). The kill follows the write of the
	// last whole fragment by a poll, so End may pass it by that much; more
	// than recoveredLead would be media the process never received.
	const recoveredLead = 500 * time.Millisecond
	if d := seg.End.Sub(seg.Start); d < 2*time.Second || seg.End.After(killed.Add(recoveredLead)) || killed.Sub(seg.End) > 3*time.Second {
		t.Errorf("recovered segment %v–%v (%v); the process was killed at %v", seg.Start, seg.End, d, killed)
	}
	if !strings.Contains(p2.stderr.String(), "segment recovered after a crash") {
		t.Errorf("no recovery log line")
	}
	// It plays: an export over all of it.
	resp, body := ta.get("GET", recPath(ch.ID, "recordings/export.mp4?"+rangeQuery(seg.Start, seg.End)), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export of the recovered segment: %d %s", resp.StatusCode, body)
	}
	if x := parseExport(t, body); absDur(x.duration-seg.End.Sub(seg.Start)) > frame || !x.firstIDR || !x.hasAudio {
		t.Errorf("export of the recovered segment: %+v", x)
	}
	// The policy was loaded at start-up: recording resumed.
	eventually(t, "recording after the restart", func() bool {
		_, c = ta.storage(ch.ID)
		return c.Recording && c.BytesWritten > 0
	}, func() string { return fmt.Sprintf("%+v", c) })
}

// TestRecordingLoad is the recording performance harness (not in the default
// suite; NVR_RECORD_LOAD=1 runs it): NVR_RECORD_LOAD_N (default 100) channels
// of the 720p clip at 2 Mbit/s, always-on and recorded by the real binary,
// and the binary's CPU time (utime+stime from /proc) over
// NVR_RECORD_LOAD_SECONDS (default 30) after a warm-up. With
// NVR_RECORD_LOAD_MODE=relay the channels are always-on but not recorded: the
// ingest alone, for comparison.
func TestRecordingLoad(t *testing.T) {
	if os.Getenv("NVR_RECORD_LOAD") != "1" {
		t.Skip("NVR_RECORD_LOAD=1 runs the recording load test")
	}
	n := envInt("NVR_RECORD_LOAD_N", 100)
	window := time.Duration(envInt("NVR_RECORD_LOAD_SECONDS", 30)) * time.Second
	relay := os.Getenv("NVR_RECORD_LOAD_MODE") == "relay"

	srv, err := testsrc.NewServer(testsrcConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddStreams("cam", n, mustVideo(t, testsrc.ClipH264HD), nil)

	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "nvr.yaml")
	if err := os.WriteFile(cfg, []byte("log:\n  level: warn\nrtsp:\n  transport: tcp\nrecording:\n  min_free_bytes: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := binEnv("NVR_HTTP_ADDR=127.0.0.1:0", "NVR_DATA_DIR="+data, "NVR_ADMIN_PASSWORD=load-pw", "NVR_LOG_LEVEL=info")
	p, addr := startBinary(t, env, "-c", cfg)
	ta := clientFor(t, addr)
	ta.token = ta.login("admin", "load-pw")
	var ids []int64
	for i := range n {
		var d deviceJSON
		ta.api("POST", "/api/v1/devices", map[string]any{"type": "rtsp", "name": fmt.Sprintf("cam%d", i),
			"url": srv.URL(fmt.Sprintf("cam%d", i)), "always_on": relay}, http.StatusCreated, &d)
		var chans list[channelJSON]
		ta.api("GET", fmt.Sprintf("/api/v1/devices/%d/channels", d.ID), nil, http.StatusOK, &chans)
		ids = append(ids, chans.Items[0].ID)
	}
	if !relay {
		for _, id := range ids {
			ta.record(id, map[string]any{"mode": "continuous"})
		}
	}
	eventually(t, "every stream running", func() bool {
		var l list[streamJSON]
		ta.api("GET", "/api/v1/streams", nil, http.StatusOK, &l)
		return len(l.Items) == n
	}, nil)
	time.Sleep(10 * time.Second) // warm-up: connections, first segments

	pid := p.cmd.Process.Pid
	cpu0, t0 := procCPU(t, pid), time.Now()
	s0, _ := ta.storage(0)
	time.Sleep(window)
	cpu1, t1 := procCPU(t, pid), time.Now()
	s1, _ := ta.storage(0)
	wall := t1.Sub(t0)
	perChannel := float64(cpu1-cpu0) / float64(wall) / float64(n) * 100
	var written, dropped int64
	for _, c := range s1.Channels {
		written += c.BytesWritten
		dropped += c.DroppedFragments
	}
	var written0 int64
	for _, c := range s0.Channels {
		written0 += c.BytesWritten
	}
	rss := procRSS(t, pid)
	t.Logf("%d channels (%s): CPU %v over %v = %.3f %% of a core per channel; %.1f Mbit/s written, %d fragments dropped, %d segments indexed, RSS %.1f MiB",
		n, map[bool]string{true: "relay only", false: "recorded"}[relay], (cpu1 - cpu0).Round(time.Millisecond), wall.Round(time.Millisecond),
		perChannel, float64(written-written0)*8/wall.Seconds()/1e6, dropped, s1.Segments, float64(rss)/(1<<20))
	if dropped != 0 {
		t.Errorf("%d fragments dropped", dropped)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// procCPU returns the user and system CPU time of a process, from /proc.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command (which may hold spaces) start after ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

// procRSS returns the resident set size of a process, from /proc.
func procRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestRecordingRetrievalPerf is the retrieval performance harness (not in the
// default suite; NVR_RECORD_PERF=1 runs it), against the in-process app over
// HTTP:
//   - listing a month of one channel (43,200 one-minute segments indexed):
//     GET .../recordings for the month, the whole answer read;
//   - an export.mp4 of one hour (60 one-minute segments of the 720p clip with
//     AAC, recorded by media/record, about 0.9 GB): the time to the first
//     byte of the body.
//
// Each is repeated; the figures are wall time on a warm page cache.
func TestRecordingRetrievalPerf(t *testing.T) {
	if os.Getenv("NVR_RECORD_PERF") != "1" {
		t.Skip("NVR_RECORD_PERF=1 runs the retrieval performance harness")
	}
	var data string
	ta := startApp(t, func(c *config.Config) { recordingConfig(c); data = c.DataDir })
	_, month := ta.addDevice("month", "rtsp://127.0.0.1:1/none")
	_, hour := ta.addDevice("hour", "rtsp://127.0.0.1:1/none")
	db, err := storage.Open(context.Background(), storage.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// A month of one-minute segments.
	m0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
	var rows []*device.Recording
	for i := range 43200 {
		s := m0.Add(time.Duration(i) * time.Minute)
		rows = append(rows, &device.Recording{ChannelID: month.ID, Stream: month.Stream, Start: s, End: s.Add(time.Minute),
			Bytes: 15 << 20, Codecs: "avc1.64001f,mp4a.40.2", Path: fmt.Sprintf("/nowhere/%d.mp4", i)})
	}
	if err := db.AddRecordings(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	list := recPath(month.ID, "recordings?"+rangeQuery(m0, m0.AddDate(0, 1, 0)))
	var times []time.Duration
	const lists = 20
	cpu0 := selfCPU(t)
	for range lists {
		t0 := time.Now()
		resp, b := ta.get("GET", list, nil)
		times = append(times, time.Since(t0))
		if resp.StatusCode != http.StatusOK || len(b) < 43200*50 {
			t.Fatalf("list: %d, %d bytes", resp.StatusCode, len(b))
		}
	}
	cpu := (selfCPU(t) - cpu0) / lists
	slices.Sort(times)
	t.Logf("listing a month (43,200 segments, %d KB of JSON) over HTTP: CPU %v per request (server and client); wall min %v, median %v, max %v",
		len(ta.recordingsOfRaw(list))>>10, cpu.Round(10*time.Microsecond), times[0].Round(10*time.Microsecond), times[len(times)/2].Round(10*time.Microsecond), times[len(times)-1].Round(10*time.Microsecond))
	t.Logf("server-side durations of the listing (access log): %v", handlerDurations(ta, "/api/v1/channels/"+strconv.FormatInt(month.ID, 10)+"/recordings "))

	// An hour of 720p at 2 Mbit/s with AAC, recorded two hours ago.
	segs := recordHour(t, filepath.Join(data, "recordings"), hour.Stream, time.Now().Add(-2*time.Hour).Truncate(time.Minute))
	var recs []*device.Recording
	for _, s := range segs {
		recs = append(recs, &device.Recording{ChannelID: hour.ID, Stream: s.Stream, Start: s.Start, End: s.End, Bytes: s.Bytes, Codecs: s.Codecs, Path: s.Path})
	}
	if err := db.AddRecordings(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	start := segs[0].Start.Add(1500 * time.Millisecond)
	export := ta.base + recPath(hour.ID, "recordings/export.mp4?"+rangeQuery(start, start.Add(time.Hour))) + "&token=" + ta.token
	times = times[:0]
	var size int64
	cpu0 = selfCPU(t)
	for range 10 {
		t0 := time.Now()
		resp, err := ta.http.Get(export)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := resp.Body.Read(make([]byte, 1)); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("export: %d, %v", resp.StatusCode, err)
		}
		times = append(times, time.Since(t0))
		size = resp.ContentLength
		resp.Body.Close()
	}
	cpu = (selfCPU(t) - cpu0) / 10
	t.Logf("export.mp4 of one hour (%d segments, %.0f MB): CPU %v per request up to the first byte; first byte after %v (first request), median %v, max %v",
		len(segs), float64(size)/1e6, cpu.Round(10*time.Microsecond), times[0].Round(10*time.Microsecond), slices.Sorted(slices.Values(times))[len(times)/2].Round(10*time.Microsecond),
		slices.Max(times).Round(10*time.Microsecond))
}

// handlerDurations returns the durations the access log gives for a path,
// sorted.
func handlerDurations(ta *testApp, path string) []time.Duration {
	var out []time.Duration
	for line := range strings.SplitSeq(ta.logs.String(), "\n") {
		if !strings.Contains(line, "path="+path) {
			continue
		}
		_, v, ok := strings.Cut(line, "duration=")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, " ")
		if d, err := time.ParseDuration(v); err == nil {
			out = append(out, d.Round(100*time.Microsecond))
		}
	}
	slices.Sort(out)
	return out
}

// selfCPU returns the CPU time of the test process (user and system).
func selfCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// recordingsOfRaw returns the body of a listing.
func (ta *testApp) recordingsOfRaw(path string) []byte {
	_, b := ta.get("GET", path, nil)
	return b
}

// recordHour records an hour of the 720p clip with AAC into one-minute
// segments of stream under dir, starting at base, as fast as the recorder
// takes it.
func recordHour(t *testing.T, dir, name string, base time.Time) []record.Segment {
	t.Helper()
	video := mustVideo(t, testsrc.ClipH264HD)
	audio, err := testsrc.LoadAudio(testsrc.ClipAAC)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := audio.Config.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := stream.New(name, 1<<16, nil)
	var mu sync.Mutex
	var segs []record.Segment
	r := &record.Recorder{Stream: s, Dir: dir, SegmentDuration: time.Minute, Location: time.Local,
		OnSegment: func(seg record.Segment) { mu.Lock(); segs = append(segs, seg); mu.Unlock() }}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	pub := s.NewPublisher()
	pub.SetTrack(0, &unit.Params{Codec: unit.CodecH264, SPS: video.SPS, PPS: video.PPS, Width: video.Width, Height: video.Height})
	pub.SetTrack(1, &unit.Params{Codec: unit.CodecAAC, AudioConfig: conf, SampleRate: audio.SampleRate, Channels: audio.Channels})
	vi, ai, n := 0, 0, uint64(0)
	for sec := 1; sec <= 3600+2; sec++ {
		until := time.Duration(sec) * time.Second
		for {
			vd := time.Duration(vi) * time.Second / time.Duration(video.FPS)
			ad := time.Duration(ai*audio.SamplesPerFrame) * time.Second / time.Duration(audio.SampleRate)
			if min(vd, ad) >= until {
				break
			}
			if vd <= ad {
				fr := video.Frames[vi%len(video.Frames)]
				pub.Write(&unit.Unit{Track: 0, DTS: vd, PTS: vd, Time: base.Add(vd), Key: fr.Key, Data: fr.NALUs})
				vi++
			} else {
				pub.Write(&unit.Unit{Track: 1, DTS: ad, PTS: ad, Time: base.Add(ad), Key: true, Data: [][]byte{audio.Frames[ai%len(audio.Frames)]}})
				ai++
			}
			n++
		}
		for r.Stats().Units < n {
			time.Sleep(100 * time.Microsecond)
		}
	}
	s.Close()
	<-r.Done()
	if st := r.Stats(); st.DroppedFragments != 0 || st.Skipped != 0 {
		t.Fatalf("recorder stats %+v", st)
	}
	return segs
}

// TestRecordingGB records a GB28181 camera: the recorder holds the INVITE
// without a viewer, and when the device ends the call (BYE) the channel is
// INVITEd again and recording resumes; off sends BYE once idle.
func TestRecordingGB(t *testing.T) {
	e := startGB(t, gbMediaConfig, recordingConfig)
	cam := e.camera(t, 400, "udp", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, nil)
	ta := e.with(t)
	ta.record(cam.chID, map[string]any{"mode": "continuous"})
	first := cam.waitCall(t, "a confirmed call", func(c gbsim.Call) bool { return c.Confirmed })
	ta.waitSegments(cam.chID, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bye := time.Now()
	if err := cam.dev.Bye(ctx, first.CallID); err != nil {
		t.Fatal(err)
	}
	second := cam.waitCall(t, "a new INVITE after the device's BYE", func(c gbsim.Call) bool {
		return c.Confirmed && c.CallID != first.CallID
	})
	// Which segments are the first call's is known by causality, not by their
	// times: the worker acquires the stream again (which sends the new INVITE)
	// only after the first call's recorder has stopped and indexed its last
	// segment, the one the BYE cut short. (Segment times are media times from
	// the first unit on, and may run a little ahead of the wall clock: the test
	// sends the BYE right after a cut, so the first call's last segment starts
	// within milliseconds of it.) Any segment not listed now is the new call's.
	old := map[int64]bool{}
	for _, s := range ta.recordingsOf(cam.chID).Segments {
		old[s.ID] = true
	}
	var l recListJSON
	var last segJSON // the newest segment of the new call
	eventually(t, "a segment of the new call", func() bool {
		l = ta.recordingsOf(cam.chID)
		for _, s := range l.Segments {
			if !old[s.ID] && s.Start.After(last.Start) {
				last = s
			}
		}
		return last.ID != 0
	}, func() string { return fmt.Sprintf("segments before the new call %v, now %+v", old, l) })
	// The new call's first unit came after the BYE (and the worker's backoff),
	// and its segments start at that unit's wall-clock time or later.
	if !last.Start.After(bye) {
		t.Errorf("segment %+v of the new call starts before the BYE at %v", last, bye)
	}
	if _, c := ta.storage(cam.chID); !c.Recording {
		t.Errorf("not recording after the new call: %+v", c)
	}
	// G.711 is kept (as PCM): the export has audio.
	resp, body := ta.get("GET", recPath(cam.chID, "recordings/export.mp4?"+rangeQuery(last.Start, last.End)), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	if x := parseExport(t, body); !x.firstIDR || !x.hasAudio {
		t.Errorf("export of a GB segment: %+v", x)
	}

	ta.record(cam.chID, map[string]any{"mode": "off"})
	cam.waitCall(t, "BYE once recording stopped", func(c gbsim.Call) bool { return c.CallID == second.CallID && c.ByePlatform })
}
