package web

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
)

// route is one entry of the API. The table below registers the handlers and
// generates the OpenAPI document (openapi.go).
type route struct {
	method  string // one method, or "GET+HEAD"
	path    string // OpenAPI style: /api/v1/devices/{id}
	summary string
	tag     string
	auth    bool
	body    string // request schema name, if any
	resp    string // 2xx response schema name, or a media type for play routes
	status  int    // success status (default 200)
	query   []param
	handler gin.HandlerFunc
}

type param struct {
	name, desc string
	required   bool
}

func (rt route) methods() []string { return strings.Split(rt.method, "+") }

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// ginPath turns {id} into :id. A parameter with a suffix in its segment
// ({stream}.flv) becomes the whole segment (:stream); see suffix.
func (rt route) ginPath() string {
	segs := strings.Split(rt.path, "/")
	for i, seg := range segs {
		if m := pathParam.FindStringSubmatch(seg); m != nil {
			segs[i] = ":" + m[1]
		}
	}
	return strings.Join(segs, "/")
}

// suffix returns the parameter name and the literal text that follows it in
// the same path segment, e.g. ("stream", ".flv"), or "" when there is none.
func (rt route) suffix() (name, suffix string) {
	for _, seg := range strings.Split(rt.path, "/") {
		if m := pathParam.FindStringSubmatchIndex(seg); m != nil && m[1] < len(seg) {
			return seg[m[2]:m[3]], seg[m[1]:]
		}
	}
	return "", ""
}

// suffixKey is the context key under which a suffix route stores the
// parameter value without its suffix.
const suffixKey = "param_without_suffix"

// dispatchSuffix serves several routes that share a gin path and differ by
// the suffix of one parameter (/ws/live/x.flv, /ws/live/x.mp4).
func dispatchSuffix(rts []route, chains [][]gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		for i, rt := range rts {
			name, suf := rt.suffix()
			v := c.Param(name)
			if strings.HasSuffix(v, suf) && len(v) > len(suf) {
				c.Set(suffixKey, strings.TrimSuffix(v, suf))
				for _, h := range chains[i] {
					if c.IsAborted() {
						return
					}
					h(c)
				}
				return
			}
		}
		abort(c, http.StatusNotFound, codeNotFound, "no such route")
	}
}

var (
	pageParams  = []param{{"offset", "records to skip", false}, {"limit", "maximum records (0: all)", false}}
	tokenParams = []param{{"token", "bearer token, for players that cannot send headers", false}}
)

func (s *Server) routes() []route {
	return []route{
		{method: "GET", path: "/api/v1/health", summary: "Liveness and database check", tag: "system", resp: "Health", handler: s.health},
		{method: "POST", path: "/api/v1/auth/login", summary: "Exchange a username and password for a bearer token", tag: "auth", body: "LoginRequest", resp: "LoginResponse", handler: s.login},
		{method: "GET", path: "/api/v1/openapi.json", summary: "This document", tag: "system", auth: true, resp: "object", handler: s.openapi},

		{method: "GET", path: "/api/v1/devices", summary: "List devices", tag: "devices", auth: true, query: pageParams, resp: "DeviceList", handler: s.listDevices},
		{method: "POST", path: "/api/v1/devices", summary: "Add a device", tag: "devices", auth: true, body: "DeviceCreate", resp: "Device", status: http.StatusCreated, handler: s.createDevice},
		{method: "GET", path: "/api/v1/devices/{id}", summary: "Get a device", tag: "devices", auth: true, resp: "Device", handler: s.getDevice},
		{method: "PATCH", path: "/api/v1/devices/{id}", summary: "Change a device", tag: "devices", auth: true, body: "DevicePatch", resp: "Device", handler: s.patchDevice},
		{method: "DELETE", path: "/api/v1/devices/{id}", summary: "Delete a device and its channels", tag: "devices", auth: true, status: http.StatusNoContent, handler: s.deleteDevice},
		{method: "GET", path: "/api/v1/devices/{id}/channels", summary: "List a device's channels", tag: "channels", auth: true, resp: "ChannelList", handler: s.deviceChannels},

		{method: "GET", path: "/api/v1/channels", summary: "List all channels", tag: "channels", auth: true, resp: "ChannelList", handler: s.listChannels},
		{method: "GET", path: "/api/v1/channels/{id}", summary: "Get a channel", tag: "channels", auth: true, resp: "Channel", handler: s.getChannel},
		{method: "PATCH", path: "/api/v1/channels/{id}", summary: "Change a channel (name, always_on)", tag: "channels", auth: true, body: "ChannelPatch", resp: "Channel", handler: s.patchChannel},

		{method: "GET", path: "/api/v1/streams", summary: "Running streams with codecs, bitrate, readers and drops", tag: "streams", auth: true, resp: "StreamList", handler: s.listStreams},

		{method: "GET+HEAD", path: "/live/{stream}.flv", summary: "HTTP-FLV live stream", tag: "play", auth: true, query: tokenParams, resp: "video/x-flv", handler: s.playFLV},
		{method: "GET", path: "/live/{stream}/{file}", summary: "HLS live stream (index.m3u8, fMP4 segments)", tag: "play", auth: true, query: tokenParams, resp: "application/vnd.apple.mpegurl", handler: s.playHLS},
		{method: "GET", path: "/ws/live/{stream}.flv", summary: "FLV over WebSocket (binary messages)", tag: "play", auth: true, query: tokenParams, resp: "websocket", handler: s.playWSFLV},
		{method: "GET", path: "/ws/live/{stream}.mp4", summary: "fMP4 over WebSocket for MSE: a JSON init message with the MIME type, then the init segment and fragments", tag: "play", auth: true, query: tokenParams, resp: "websocket", handler: s.playWSFMP4},
	}
}
