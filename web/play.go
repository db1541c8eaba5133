package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/media/egress/flv"
	"github.com/nvr/nvr/media/egress/fmp4"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/media/stream"
)

// streamName returns the {stream} path parameter, without the route's suffix.
func streamName(c *gin.Context) string {
	if v, ok := c.Get(suffixKey); ok {
		return v.(string)
	}
	return c.Param("stream")
}

// acquire gets the named stream from the hub, starting it on demand, and
// answers the request itself when that fails.
func (s *Server) acquire(c *gin.Context) (*stream.Stream, func(), bool) {
	st, release, err := s.Hub.Acquire(c.Request.Context(), streamName(c))
	switch {
	case err == nil:
		return st, release, true
	case errors.Is(err, hub.ErrUnknown):
		abort(c, http.StatusNotFound, codeNotFound, "no such stream")
	case errors.Is(err, hub.ErrStartTimeout):
		abort(c, http.StatusServiceUnavailable, codeUnavailable, err.Error())
	case c.Request.Context().Err() != nil:
		c.Abort() // the viewer left while we waited
	default:
		abort(c, http.StatusServiceUnavailable, codeUnavailable, err.Error())
	}
	return nil, nil, false
}

func (s *Server) playFLV(c *gin.Context) {
	st, release, ok := s.acquire(c)
	if !ok {
		return
	}
	defer release()
	flv.ServeHTTP(c.Writer, c.Request, st, s.Logger)
}

func (s *Server) playWSFLV(c *gin.Context) {
	st, release, ok := s.acquire(c)
	if !ok {
		return
	}
	defer release()
	flv.ServeWS(c.Writer, c.Request, st, s.Logger)
}

func (s *Server) playWSFMP4(c *gin.Context) {
	st, release, ok := s.acquire(c)
	if !ok {
		return
	}
	defer release()
	fmp4.ServeWS(c.Writer, c.Request, st, s.Logger)
}

// playHLS hands HLS requests to the manager, which keeps one muxer per
// stream and acquires the stream from the hub itself.
func (s *Server) playHLS(c *gin.Context) {
	if !s.Hub.Has(c.Param("stream")) {
		abort(c, http.StatusNotFound, codeNotFound, "no such stream")
		return
	}
	s.HLS.ServeHTTP(c.Writer, c.Request, c.Param("stream"), c.Param("file"))
}
