package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
	devgb "github.com/nvr/nvr/device/gb"
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
	// GB28181 devices: offline or not registered (409), no answer within
	// sip.query_timeout (504), a refusal (502), signalling not running (503).
	codeDeviceOffline = "device_offline"
	codeDeviceTimeout = "device_timeout"
	codeDeviceError   = "device_error"
	codeUnavailableGB = "gb28181_unavailable"
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
	case errors.Is(err, devgb.ErrOffline):
		abort(c, http.StatusConflict, codeDeviceOffline, err.Error())
	case errors.Is(err, devgb.ErrTimeout):
		abort(c, http.StatusGatewayTimeout, codeDeviceTimeout, err.Error())
	case errors.Is(err, devgb.ErrDeviceError):
		abort(c, http.StatusBadGateway, codeDeviceError, err.Error())
	default:
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		abort(c, http.StatusInternalServerError, codeInternal, "internal error")
	}
}
