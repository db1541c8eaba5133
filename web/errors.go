package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/media/hub"
)

// apiError is the body of every error response:
// {"error": {"code": "...", "message": "..."}}.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes clients can act on.
const (
	codeBadRequest   = "bad_request"
	codeInvalidJSON  = "invalid_json"
	codeUnauthorized = "unauthorized"
	codeNotFound     = "not_found"
	codeConflict     = "conflict"
	codeUnavailable  = "stream_unavailable"
	codeTimeout      = "timeout"
	codeInternal     = "internal"
)

func abort(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, apiError{Error: errorBody{Code: code, Message: msg}})
}

// fail maps a domain error onto a status and code. Internal errors are
// logged and reported without their details.
func (s *Server) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, device.ErrInvalid):
		abort(c, http.StatusBadRequest, codeBadRequest, err.Error())
	case errors.Is(err, device.ErrNotFound), errors.Is(err, hub.ErrUnknown):
		abort(c, http.StatusNotFound, codeNotFound, "not found")
	case errors.Is(err, device.ErrConflict):
		abort(c, http.StatusConflict, codeConflict, err.Error())
	case errors.Is(err, hub.ErrStartTimeout):
		abort(c, http.StatusServiceUnavailable, codeUnavailable, err.Error())
	default:
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		abort(c, http.StatusInternalServerError, codeInternal, "internal error")
	}
}
