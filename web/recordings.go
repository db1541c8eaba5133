package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/record"
)

// Recordings is what the recording API needs: the index of recorded segments, the channels'
// recording policies and the recorder manager that applies them, retention's leases, and the
// storage figures.
type Recordings interface {
	// RecordingPolicy returns a channel's policy (RecordOff when none was set).
	RecordingPolicy(ctx context.Context, channelID int64) (device.RecordingPolicy, error)
	// SetRecordingPolicy stores a policy and applies it at once.
	SetRecordingPolicy(ctx context.Context, p *device.RecordingPolicy) error
	// ListRecordings returns the timeline (ID, start, end, bytes) of a channel over [from, to).
	ListRecordings(ctx context.Context, channelID int64, from, to time.Time) ([]device.Recording, error)
	// RecordingFiles returns the whole segments of a channel that overlap [from, to).
	RecordingFiles(ctx context.Context, channelID int64, from, to time.Time) ([]device.Recording, error)
	// RecordingDays sums up a channel's recordings per day of the month holding month, in loc.
	RecordingDays(ctx context.Context, channelID int64, month time.Time, loc *time.Location) ([]device.RecordingDay, error)
	// Recording returns one segment by ID.
	Recording(ctx context.Context, id int64) (*device.Recording, error)
	// DeleteRecordingRange deletes the segments of a channel that lie wholly inside [from, to).
	DeleteRecordingRange(ctx context.Context, channelID int64, from, to time.Time) (device.RecordingDeletion, error)
	// LeaseRecordings keeps segments from being deleted until release is called.
	LeaseRecordings(ids []int64) (release func())
	// StorageUsage reports the recordings' storage and the recorded channels.
	StorageUsage(ctx context.Context) (device.StorageUsage, error)
}

// Limits of the retrieval routes. An export's moov holds about 6 bytes per sample (1.5 MB an
// hour) and is built before the first byte goes out; a per-fragment playlist has a line pair
// per GOP. Longer ranges are asked for in parts.
const (
	maxExportSpan   = 6 * time.Hour
	maxPlaylistSpan = 24 * time.Hour
	// maxListSpan is a month and a bit: a console's timeline asks for a month at a time.
	maxListSpan = 32 * 24 * time.Hour
	// rangeGap is the largest hole between two segments that still counts as one recorded
	// range. Consecutive segments of one recording abut exactly; a recorder restart or a
	// camera reconnect within a second or so is not worth a gap in a timeline.
	rangeGap = 1500 * time.Millisecond
	// leaseRetries is how often an export or a playlist is assembled again when retention
	// deleted one of its segments between the index query and the lease.
	leaseRetries = 3
)

// codeRecordingUnavailable answers the recording routes when recording is not wired.
const codeRecordingUnavailable = "recording_unavailable"

// recordings returns the recording service, answering 503 itself without one.
func (s *Server) recordings(c *gin.Context) (Recordings, bool) {
	if s.Recordings == nil {
		abort(c, http.StatusServiceUnavailable, codeRecordingUnavailable, "recording is not running")
		return nil, false
	}
	return s.Recordings, true
}

// recordingChannel reads the {id} of a channel route, checks that the channel exists and returns
// it with the recording service; it answers the request itself otherwise.
func (s *Server) recordingChannel(c *gin.Context) (*device.Channel, Recordings, bool) {
	id, ok := idParam(c)
	if !ok {
		return nil, nil, false
	}
	rs, ok := s.recordings(c)
	if !ok {
		return nil, nil, false
	}
	ch, err := s.Store.Channel(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return nil, nil, false
	}
	return ch, rs, true
}

// timeRange reads the required start and end query parameters (RFC 3339): end after start, at
// most maxSpan apart.
func timeRange(c *gin.Context, maxSpan time.Duration) (from, to time.Time, ok bool) {
	parse := func(name string) (time.Time, bool) {
		v := c.Query(name)
		if v == "" {
			abort(c, http.StatusBadRequest, codeBadRequest, name+" is required (RFC 3339, e.g. 2026-03-01T08:00:00Z)")
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("%s %q is not an RFC 3339 time", name, v))
			return time.Time{}, false
		}
		return t, true
	}
	if from, ok = parse("start"); !ok {
		return
	}
	if to, ok = parse("end"); !ok {
		return
	}
	switch {
	case !to.After(from):
		abort(c, http.StatusBadRequest, codeBadRequest, "end must be after start")
		return from, to, false
	case to.Sub(from) > maxSpan:
		abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("the range is longer than %s; ask for it in parts", formatAge(maxSpan)))
		return from, to, false
	}
	return from, to, true
}

// recordingPolicyDTO is a channel's recording policy as the API shows and takes it.
type recordingPolicyDTO struct {
	ChannelID int64                 `json:"channel_id"`
	Mode      device.RecordMode     `json:"mode"`
	Schedule  []device.ScheduleRule `json:"schedule"`
	// MaxAge is a duration ("30d", "720h", "90m", or seconds); "0" uses recording.max_age.
	MaxAge    string     `json:"max_age"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// recordingPolicyRequest is the body of PUT .../recording. MaxAge is a string or a number of
// seconds.
type recordingPolicyRequest struct {
	Mode     device.RecordMode `json:"mode"`
	Schedule json.RawMessage   `json:"schedule"`
	MaxAge   json.RawMessage   `json:"max_age"`
}

func policyDTOFrom(p device.RecordingPolicy) (recordingPolicyDTO, error) {
	sched, err := device.ParseRecordingSchedule(p.Schedule)
	if err != nil {
		return recordingPolicyDTO{}, err
	}
	if sched == nil {
		sched = device.RecordingSchedule{}
	}
	return recordingPolicyDTO{ChannelID: p.ChannelID, Mode: p.Mode, Schedule: sched, MaxAge: formatAge(p.MaxAge),
		UpdatedAt: timePtr(p.UpdatedAt)}, nil
}

func (s *Server) getRecordingPolicy(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	p, err := rs.RecordingPolicy(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	dto, err := policyDTOFrom(p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, dto)
}

func (s *Server) putRecordingPolicy(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	var req recordingPolicyRequest
	if !bindJSON(c, &req) {
		return
	}
	p := device.RecordingPolicy{ChannelID: id, Mode: req.Mode}
	if !req.Mode.Valid() {
		abort(c, http.StatusBadRequest, codeBadRequest, `mode must be "off", "continuous" or "schedule"`)
		return
	}
	// A catalog node of a GB28181 device (a business group, an NVR) has no stream to record.
	if p.Mode != device.RecordOff && s.Hub != nil && !s.Hub.Has(ch.StreamName()) {
		abort(c, http.StatusBadRequest, codeBadRequest, "the channel has no live stream to record")
		return
	}
	if len(req.Schedule) > 0 && string(req.Schedule) != "null" {
		var sched device.RecordingSchedule
		if err := json.Unmarshal(req.Schedule, &sched); err != nil {
			msg := err.Error()
			if !errors.Is(err, device.ErrInvalid) {
				msg = `schedule is a list of {"days":["mon",…],"start":"HH:MM","end":"HH:MM"}`
			}
			abort(c, http.StatusBadRequest, codeBadRequest, strings.TrimPrefix(msg, device.ErrInvalid.Error()+": "))
			return
		}
		if len(sched) > 0 || p.Mode == device.RecordSchedule {
			if err := sched.Validate(); err != nil {
				abort(c, http.StatusBadRequest, codeBadRequest, strings.TrimPrefix(err.Error(), device.ErrInvalid.Error()+": "))
				return
			}
		}
		p.Schedule = sched.Encode()
	}
	if p.Mode == device.RecordSchedule && p.Schedule == "" {
		abort(c, http.StatusBadRequest, codeBadRequest, "mode schedule needs a schedule")
		return
	}
	age, err := parseAge(req.MaxAge)
	if err != nil {
		abort(c, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	p.MaxAge = age
	if err := rs.SetRecordingPolicy(c.Request.Context(), &p); err != nil {
		s.fail(c, err)
		return
	}
	dto, err := policyDTOFrom(p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, dto)
}

// parseAge reads max_age: absent, null, a number of seconds, or a string "30d", "720h",
// "1h30m", "90" (seconds). Stores keep whole seconds.
func parseAge(raw json.RawMessage) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	bad := fmt.Errorf(`max_age %s is not a duration such as "30d", "720h" or a number of seconds`, raw)
	var v string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, bad
		}
	} else {
		v = string(raw)
	}
	v = strings.TrimSpace(v)
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > int64(100*365*24*time.Hour/time.Second) {
			return 0, bad
		}
		d = time.Duration(n) * time.Second
	} else if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > 100*365 {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, bad
	}
	if d < 0 {
		return 0, fmt.Errorf("max_age %s is negative", raw)
	}
	if d > 0 && d < time.Second {
		return 0, fmt.Errorf("max_age %s is less than a second", raw)
	}
	return d.Truncate(time.Second), nil
}

// formatAge writes a duration the way parseAge reads it: whole days as "30d", others as
// "1h30m" (no trailing zero units), zero as "0".
func formatAge(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

type timeRangeDTO struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// segmentDTO and recordingListDTO document the listing, which appendRecordingList writes.
type segmentDTO struct {
	ID    int64     `json:"id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Bytes int64     `json:"bytes"`
}

type recordingListDTO struct {
	Ranges   []timeRangeDTO `json:"ranges"`
	Segments []segmentDTO   `json:"segments"`
}

// mergeRanges joins segments (ordered by start) that follow each other with less than rangeGap
// between them into recorded ranges, clipped to [from, to).
func mergeRanges(recs []device.Recording, from, to time.Time) []timeRangeDTO {
	out := []timeRangeDTO{}
	for _, r := range recs {
		start, end := r.Start, r.End
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if !end.After(start) {
			continue
		}
		if n := len(out); n > 0 && start.Sub(out[n-1].End) <= rangeGap {
			if end.After(out[n-1].End) {
				out[n-1].End = end
			}
			continue
		}
		out = append(out, timeRangeDTO{Start: start, End: end})
	}
	return out
}

func (s *Server) listRecordings(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	from, to, ok := timeRange(c, maxListSpan)
	if !ok {
		return
	}
	recs, err := rs.ListRecordings(c.Request.Context(), id, from, to)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", appendRecordingList(nil, mergeRanges(recs, from, to), recs))
}

// appendRecordingList appends the JSON of a listing (recordingListDTO) to b. A month of one
// channel is 43,200 segments and 4 MB of JSON: written by hand it costs a few milliseconds,
// through reflection several times that. Times are written as encoding/json writes them.
func appendRecordingList(b []byte, ranges []timeRangeDTO, recs []device.Recording) []byte {
	b = slices.Grow(b, 64+len(ranges)*64+len(recs)*96)
	b = append(b, `{"ranges":[`...)
	for i, r := range ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"start":"`...)
		b = r.Start.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","end":"`...)
		b = r.End.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `"}`...)
	}
	b = append(b, `],"segments":[`...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, r.ID, 10)
		b = append(b, `,"start":"`...)
		b = appendTime(b, r.Start)
		b = append(b, `","end":"`...)
		b = appendTime(b, r.End)
		b = append(b, `","bytes":`...)
		b = strconv.AppendInt(b, r.Bytes, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

type recordingDayDTO struct {
	Day      string  `json:"day"`
	Seconds  float64 `json:"seconds"`
	Segments int     `json:"segments"`
}

// listRecordingDays sums up a month per day, in the server's time zone (the one segment
// directories and schedules use).
func (s *Server) listRecordingDays(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	month := time.Now()
	if v := c.Query("month"); v != "" {
		m, err := time.ParseInLocation("2006-01", v, time.Local)
		if err != nil {
			abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("month %q is not YYYY-MM", v))
			return
		}
		month = m
	}
	days, err := rs.RecordingDays(c.Request.Context(), id, month, time.Local)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]recordingDayDTO, len(days))
	for i, d := range days {
		out[i] = recordingDayDTO{Day: d.Day.Format("2006-01-02"), Seconds: float64(d.Recorded.Milliseconds()) / 1000, Segments: d.Segments}
	}
	c.JSON(http.StatusOK, gin.H{"days": out})
}

// recordingDeletionDTO is the answer of a DELETE of a range.
type recordingDeletionDTO struct {
	Deleted int   `json:"deleted"`
	Bytes   int64 `json:"bytes"`
	Partial int   `json:"partial"`
	Leased  int   `json:"leased"`
}

// deleteRecordings deletes the segments that lie wholly inside the range. Segments that straddle
// start or end are kept whole (counted as partial), and so are segments being read (leased).
func (s *Server) deleteRecordings(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	from, to, ok := timeRange(c, 100*365*24*time.Hour)
	if !ok {
		return
	}
	d, err := rs.DeleteRecordingRange(c.Request.Context(), id, from, to)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, recordingDeletionDTO{Deleted: d.Deleted, Bytes: d.Bytes, Partial: d.Partial, Leased: d.Leased})
}

// segmentsOf turns index rows into the segments media/record reads.
func segmentsOf(recs []device.Recording) ([]record.Segment, []int64) {
	segs := make([]record.Segment, len(recs))
	ids := make([]int64, len(recs))
	for i, r := range recs {
		segs[i] = record.Segment{ID: r.ID, Stream: r.Stream, Path: r.Path, Start: r.Start, End: r.End, Bytes: r.Bytes, Codecs: r.Codecs}
		ids[i] = r.ID
	}
	return segs, ids
}

// failRecording maps the errors of media/record onto answers.
func (s *Server) failRecording(c *gin.Context, err error) {
	switch {
	case errors.Is(err, record.ErrNoMedia):
		abort(c, http.StatusNotFound, codeNotFound, "no recording in the range")
	case errors.Is(err, record.ErrIncompatible):
		abort(c, http.StatusConflict, codeConflict, err.Error()+"; export the range in parts")
	default:
		s.fail(c, err)
	}
}

// leaseSegments leases the segments of a channel that overlap [from, to) and calls use with
// them. When retention deleted a file between the index query and the lease (use fails with
// fs.ErrNotExist), it asks the index again. On success the caller releases the lease when done.
func leaseSegments(ctx context.Context, rs Recordings, channelID int64, from, to time.Time, use func([]record.Segment) error) (release func(), err error) {
	for attempt := 0; ; attempt++ {
		recs, err := rs.RecordingFiles(ctx, channelID, from, to)
		if err != nil {
			return nil, err
		}
		segs, ids := segmentsOf(recs)
		release := rs.LeaseRecordings(ids)
		err = use(segs)
		if err == nil {
			return release, nil
		}
		release()
		if !errors.Is(err, fs.ErrNotExist) || attempt == leaseRetries {
			return nil, err
		}
		time.Sleep(20 * time.Millisecond) // the rows go right after the files
	}
}

// exportRecordings serves one progressive MP4 of a time range across segments, built on request
// (media/record.Export): Content-Length, ETag, Range and If-Range by http.ServeContent. The
// segments are leased while the answer is being sent, so retention cannot delete them under it.
func (s *Server) exportRecordings(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	from, to, ok := timeRange(c, maxExportSpan)
	if !ok {
		return
	}
	var exp *record.Export
	release, err := leaseSegments(c.Request.Context(), rs, id, from, to, func(segs []record.Segment) (err error) {
		exp, err = record.OpenExport(segs, from, to)
		return err
	})
	if err != nil {
		s.failRecording(c, err)
		return
	}
	defer release()
	defer exp.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("ETag", exp.ETag())
	h.Set("Cache-Control", "private, max-age=3600")
	if download, _ := strconv.ParseBool(c.Query("download")); download {
		name := fmt.Sprintf("ch%d_%s_%s.mp4", id, exp.Start().UTC().Format("20060102T150405Z"), exp.End().UTC().Format("20060102T150405Z"))
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	}
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, io.NewSectionReader(exp, 0, exp.Size()))
}

// appendTime appends t as encoding/json writes it (RFC 3339 with the fraction's trailing zeros
// trimmed). The index's times, UTC at millisecond precision, take a fast path: time's layout
// interpreter would be most of a month's listing.
func appendTime(b []byte, t time.Time) []byte {
	ns := t.Nanosecond()
	if t.Location() != time.UTC || ns%int(time.Millisecond) != 0 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	two := func(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = two(b, y/100)
	b = two(b, y%100)
	b = append(b, '-')
	b = two(b, int(mo))
	b = append(b, '-')
	b = two(b, d)
	b = append(b, 'T')
	b = two(b, h)
	b = append(b, ':')
	b = two(b, mi)
	b = append(b, ':')
	b = two(b, sec)
	if ms := ns / int(time.Millisecond); ms != 0 {
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return append(b, 'Z')
}

// requestToken returns the token the request was authorized with, for URLs a player fetches
// next without headers.
func requestToken(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); h != "" {
		if scheme, rest, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
	}
	return c.Query("token")
}

// segmentURL is the API path of a segment file.
func segmentURL(id int64) string { return "/api/v1/recordings/" + strconv.FormatInt(id, 10) + ".mp4" }

// recordingPlaylist serves an HLS VOD playlist (fMP4, RFC 8216) over the segments that overlap
// the range, one media segment per GOP, addressed by byte range in the segment files
// (/api/v1/recordings/{id}.mp4), each URL carrying the token. Whole segments are listed: a
// player starts at the first keyframe of the first one.
func (s *Server) recordingPlaylist(c *gin.Context) {
	ch, rs, ok := s.recordingChannel(c)
	if !ok {
		return
	}
	id := ch.ID
	from, to, ok := timeRange(c, maxPlaylistSpan)
	if !ok {
		return
	}
	query := ""
	if tok := requestToken(c); tok != "" {
		query = "?token=" + url.QueryEscape(tok)
	}
	var buf bytes.Buffer
	release, err := leaseSegments(c.Request.Context(), rs, id, from, to, func(segs []record.Segment) error {
		buf.Reset()
		return record.WritePlaylist(&buf, segs, record.PlaylistOptions{
			URL:         func(seg record.Segment) string { return segmentURL(seg.ID) + query },
			PerFragment: true,
		})
	})
	if err != nil {
		s.failRecording(c, err)
		return
	}
	release()
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/vnd.apple.mpegurl", buf.Bytes())
}

// serveSegment serves one segment file (an ordinary fMP4) with Range support, leased while it
// is sent: what HLS VOD playlists point at, also good for download.
func (s *Server) serveSegment(c *gin.Context) {
	v, _ := c.Get(suffixKey)
	id, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	if err != nil || id <= 0 {
		abort(c, http.StatusNotFound, codeNotFound, "not found")
		return
	}
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	r, err := rs.Recording(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	defer rs.LeaseRecordings([]int64{id})()
	f, err := os.Open(r.Path)
	if errors.Is(err, fs.ErrNotExist) {
		abort(c, http.StatusNotFound, codeNotFound, "the segment was deleted")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "video/mp4")
	// A segment file never changes once closed.
	h.Set("ETag", fmt.Sprintf(`"seg-%d-%d"`, id, fi.Size()))
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	http.ServeContent(c.Writer, c.Request, "", fi.ModTime(), f)
}

type recorderStatusDTO struct {
	ChannelID        int64             `json:"channel_id"`
	Stream           string            `json:"stream"`
	Mode             device.RecordMode `json:"mode"`
	Recording        bool              `json:"recording"`
	WriteRate        int64             `json:"write_rate_bps"`
	BytesWritten     uint64            `json:"bytes_written"`
	Segments         uint64            `json:"segments_written"`
	DroppedFragments uint64            `json:"dropped_fragments"`
	LastError        string            `json:"last_error,omitempty"`
}

type storageDTO struct {
	UsedBytes    int64               `json:"used_bytes"`
	Segments     int64               `json:"segments"`
	FreeBytes    *int64              `json:"free_bytes"`
	TotalBytes   *int64              `json:"total_bytes"`
	MaxBytes     int64               `json:"max_bytes"`
	MinFreeBytes int64               `json:"min_free_bytes"`
	Oldest       *time.Time          `json:"oldest_recording"`
	Channels     []recorderStatusDTO `json:"channels"`
}

func (s *Server) storageStatus(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	u, err := rs.StorageUsage(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	known := func(n int64) *int64 {
		if n < 0 {
			return nil
		}
		return &n
	}
	out := storageDTO{UsedBytes: u.UsedBytes, Segments: u.Segments, FreeBytes: known(u.FreeBytes), TotalBytes: known(u.TotalBytes),
		MaxBytes: u.MaxBytes, MinFreeBytes: u.MinFreeBytes, Oldest: timePtr(u.Oldest), Channels: make([]recorderStatusDTO, len(u.Channels))}
	for i, ch := range u.Channels {
		out.Channels[i] = recorderStatusDTO{ChannelID: ch.ChannelID, Stream: ch.Stream, Mode: ch.Mode, Recording: ch.Recording,
			WriteRate: ch.WriteRate, BytesWritten: ch.BytesWritten, Segments: ch.Segments, DroppedFragments: ch.DroppedFragments, LastError: ch.LastError}
	}
	c.JSON(http.StatusOK, out)
}
