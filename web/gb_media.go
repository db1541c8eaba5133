package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
)

// GBMedia serves GB28181 device-side playback and download.
type GBMedia interface {
	StartPlayback(ctx context.Context, channelID int64, start, end time.Time) (*device.Playback, error)
	Playback(id string) (*device.Playback, error)
	ControlPlayback(ctx context.Context, id string, c device.PlaybackControl) error
	StopPlayback(ctx context.Context, id string) error
	StartDownload(ctx context.Context, channelID int64, start, end time.Time, speed int) (*device.Download, error)
	Download(id string) (*device.Download, error)
	Downloads() []*device.Download
}

// apiTime is a time in a request body: an RFC 3339 string or Unix seconds.
type apiTime struct{ time.Time }

func (t *apiTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		t.Time = v
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an RFC 3339 time or Unix seconds", b)
	}
	t.Time = time.Unix(n, 0)
	return nil
}

type playbackRequest struct {
	Start apiTime `json:"start"`
	End   apiTime `json:"end"`
}

type playbackDTO struct {
	Session   string    `json:"session"`
	ChannelID int64     `json:"channel_id"`
	Stream    string    `json:"stream"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Play      playURLs  `json:"play"`
	CreatedAt time.Time `json:"created_at"`
}

func playbackDTOFrom(p *device.Playback) playbackDTO {
	return playbackDTO{Session: p.ID, ChannelID: p.ChannelID, Stream: p.Stream, Start: p.Start, End: p.End,
		Play: playFor(p.Stream), CreatedAt: p.CreatedAt}
}

// gbMedia returns the playback service, answering 503 itself without one.
func (s *Server) gbMedia(c *gin.Context) (GBMedia, bool) {
	if s.GBMedia == nil {
		abort(c, http.StatusServiceUnavailable, codeUnavailableGB, "GB28181 media is not running")
		return nil, false
	}
	return s.GBMedia, true
}

func (s *Server) startPlayback(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req playbackRequest
	if !bindJSON(c, &req) {
		return
	}
	m, ok := s.gbMedia(c)
	if !ok {
		return
	}
	p, err := m.StartPlayback(c.Request.Context(), id, req.Start.Time, req.End.Time)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, playbackDTOFrom(p))
}

func (s *Server) getPlayback(c *gin.Context) {
	m, ok := s.gbMedia(c)
	if !ok {
		return
	}
	p, err := m.Playback(c.Param("session"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, playbackDTOFrom(p))
}

type playbackControlRequest struct {
	Action   string   `json:"action"`
	Position *float64 `json:"position"`
	Scale    *float64 `json:"scale"`
}

func (s *Server) controlPlayback(c *gin.Context) {
	var req playbackControlRequest
	if !bindJSON(c, &req) {
		return
	}
	ctl := device.PlaybackControl{Action: req.Action}
	switch req.Action {
	case device.PlaybackSeek:
		if req.Position == nil {
			abort(c, http.StatusBadRequest, codeBadRequest, "seek needs a position in seconds from the start")
			return
		}
		ctl.Position = *req.Position
	case device.PlaybackSpeed:
		if req.Scale == nil {
			abort(c, http.StatusBadRequest, codeBadRequest, "speed needs a scale (0.25-8)")
			return
		}
		ctl.Scale = *req.Scale
	}
	m, ok := s.gbMedia(c)
	if !ok {
		return
	}
	if err := m.ControlPlayback(c.Request.Context(), c.Param("session"), ctl); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) stopPlayback(c *gin.Context) {
	m, ok := s.gbMedia(c)
	if !ok {
		return
	}
	if err := m.StopPlayback(c.Request.Context(), c.Param("session")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type downloadRequest struct {
	Start apiTime `json:"start"`
	End   apiTime `json:"end"`
	Speed int     `json:"speed"`
}

type downloadDTO struct {
	ID         string     `json:"id"`
	ChannelID  int64      `json:"channel_id"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end"`
	Speed      int        `json:"speed"`
	State      string     `json:"state"`
	Progress   float64    `json:"progress"`
	Bytes      int64      `json:"bytes"`
	Error      string     `json:"error,omitempty"`
	URL        string     `json:"url"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func downloadDTOFrom(d *device.Download) downloadDTO {
	out := downloadDTO{ID: d.ID, ChannelID: d.ChannelID, Start: d.Start, End: d.End, Speed: d.Speed,
		State: d.State, Progress: float64(int(d.Progress*1000)) / 1000, Bytes: d.Bytes, Error: d.Error,
		URL: "/api/v1/downloads/" + d.ID + "/file", CreatedAt: d.CreatedAt}
	if !d.FinishedAt.IsZero() {
		t := d.FinishedAt
		out.FinishedAt = &t
	}
	return out
}

func (s *Server) startDownload(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req downloadRequest
	if !bindJSON(c, &req) {
		return
	}
	m, ok := s.gbMedia(c)
	if !ok {
		return
	}
	d, err := m.StartDownload(c.Request.Context(), id, req.Start.Time, req.End.Time, req.Speed)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, downloadDTOFrom(d))
}

func (s *Server) listDownloads(c *gin.Context) {
	m, ok := s.gbMedia(c)
	if !ok {
		return
	}
	ds := m.Downloads()
	items := make([]downloadDTO, len(ds))
	for i, d := range ds {
		items[i] = downloadDTOFrom(d)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
}

// download returns the download named by the path, answering the request itself when there is
// none.
func (s *Server) download(c *gin.Context) (*device.Download, bool) {
	m, ok := s.gbMedia(c)
	if !ok {
		return nil, false
	}
	d, err := m.Download(c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return d, true
}

func (s *Server) getDownload(c *gin.Context) {
	if d, ok := s.download(c); ok {
		c.JSON(http.StatusOK, downloadDTOFrom(d))
	}
}

// downloadFile serves a finished download's MP4, with Range support.
func (s *Server) downloadFile(c *gin.Context) {
	d, ok := s.download(c)
	if !ok {
		return
	}
	if d.State != device.DownloadDone {
		abort(c, http.StatusConflict, codeConflict, fmt.Sprintf("the download is %s", d.State))
		return
	}
	f, err := os.Open(d.Path)
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
	name := fmt.Sprintf("channel%d_%s.mp4", d.ChannelID, d.Start.UTC().Format("20060102T150405Z"))
	c.Header("Content-Type", "video/mp4")
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(name)))
	http.ServeContent(c.Writer, c.Request, "", fi.ModTime(), f)
}
