package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// The actions of the record and guard controls (RecordCmd Record / StopRecord, GuardCmd
// SetGuard / ResetGuard), in the order the API documents them; the first of each pair turns
// the thing on.
var (
	recordActions = []string{"start", "stop"}
	guardActions  = []string{"set", "reset"}
)

// actionRequest is the body of the record and guard controls.
type actionRequest struct {
	Action string `json:"action"`
}

// bindAction reads an actionRequest whose action is one of a pair (on, off) and reports whether
// it is the first. It answers 400 itself otherwise.
func bindAction(c *gin.Context, pair []string) (on, ok bool) {
	var req actionRequest
	if !bindJSON(c, &req) {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(req.Action)) {
	case pair[0]:
		return true, true
	case pair[1]:
		return false, true
	}
	abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("action must be %q or %q", pair[0], pair[1]))
	return false, false
}

// iframeChannel asks a GB28181 channel for a key frame now.
func (s *Server) iframeChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	if err := g.IFrame(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// recordChannel starts or stops recording of a GB28181 channel on its device.
func (s *Server) recordChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	start, ok := bindAction(c, recordActions)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	if err := g.Record(c.Request.Context(), id, start); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// guardDevice arms or disarms a GB28181 device.
func (s *Server) guardDevice(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	set, ok := bindAction(c, guardActions)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	if err := g.Guard(c.Request.Context(), id, set); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
