package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func props(required []string, p obj) obj {
	o := obj{"type": "object", "properties": p}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	tStr  = obj{"type": "string"}
	tInt  = obj{"type": "integer"}
	tNum  = obj{"type": "number"}
	tBool = obj{"type": "boolean"}
	tTime = obj{"type": "string", "format": "date-time"}
)

// schemas are the component schemas named by the route table.
var schemas = obj{
	"Error":         props([]string{"error"}, obj{"error": props([]string{"code", "message"}, obj{"code": tStr, "message": tStr})}),
	"Health":        props([]string{"status"}, obj{"status": tStr, "version": tStr, "uptime_s": tInt, "database": tStr, "streams": tInt}),
	"LoginRequest":  props([]string{"username", "password"}, obj{"username": tStr, "password": obj{"type": "string", "format": "password"}}),
	"LoginResponse": props([]string{"token"}, obj{"token": tStr, "expires_at": tTime}),
	"DeviceCreate": props([]string{"type", "url"}, obj{
		"type": obj{"type": "string", "enum": []string{"rtsp"}}, "name": tStr,
		"url": obj{"type": "string", "example": "rtsp://user:pass@192.0.2.10:554/stream1"}, "always_on": tBool}),
	"DevicePatch": props(nil, obj{"name": tStr, "url": obj{"type": "string", "description": "a password of *** keeps the stored one"}, "always_on": tBool}),
	"Device": props([]string{"id", "type", "name", "status"}, obj{
		"id": tInt, "type": obj{"type": "string", "enum": []string{"rtsp", "onvif", "gb28181"}}, "name": tStr,
		"url":    obj{"type": "string", "description": "source URL with the password masked as ***"},
		"status": obj{"type": "string", "enum": []string{"idle", "connecting", "online", "error"}}, "last_error": tStr,
		"always_on": tBool, "channel_count": tInt, "created_at": tTime, "updated_at": tTime}),
	"DeviceList": props([]string{"items", "total"}, obj{"items": obj{"type": "array", "items": ref("Device")}, "total": tInt}),
	"PlayURLs":   props([]string{"flv", "ws_flv", "hls", "ws_fmp4"}, obj{"flv": tStr, "ws_flv": tStr, "hls": tStr, "ws_fmp4": tStr}),
	"Channel": props([]string{"id", "device_id", "name", "status", "play"}, obj{
		"id": tInt, "device_id": tInt, "name": tStr,
		"status": obj{"type": "string", "enum": []string{"idle", "connecting", "online", "error"}}, "last_error": tStr,
		"status_since": tTime, "always_on": tBool, "stream": tStr, "play": ref("PlayURLs"), "created_at": tTime, "updated_at": tTime}),
	"ChannelPatch": props(nil, obj{"name": tStr, "always_on": tBool}),
	"ChannelList":  props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Channel")}, "total": tInt}),
	"Track":        props([]string{"codec", "kind"}, obj{"codec": tStr, "kind": tStr, "width": tInt, "height": tInt, "sample_rate": tInt, "channels": tInt}),
	"Stream": props([]string{"name", "codecs", "bitrate", "readers", "dropped"}, obj{
		"name": tStr, "status": tStr, "last_error": tStr, "always_on": tBool,
		"codecs": obj{"type": "array", "items": tStr}, "resolution": tStr, "tracks": obj{"type": "array", "items": ref("Track")},
		"bitrate": obj{"type": "integer", "description": "bits per second"}, "fps": tNum, "readers": tInt,
		"dropped": obj{"type": "integer", "description": "units skipped by slow readers"}, "bytes": tInt,
		"started_at": tTime, "last_unit_at": tTime}),
	"StreamList": props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Stream")}, "total": tInt}),
}

// OpenAPI builds the OpenAPI 3 document from the route table.
func (s *Server) OpenAPI() obj {
	paths := obj{}
	errResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	for _, rt := range s.routes() {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		for _, m := range rt.methods() {
			op := obj{"summary": rt.summary, "tags": []string{rt.tag},
				"operationId": strings.ToLower(m) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(rt.path)}
			var params []obj
			for _, p := range pathParam.FindAllStringSubmatch(rt.path, -1) {
				params = append(params, obj{"name": p[1], "in": "path", "required": true, "schema": tStr})
			}
			for _, q := range rt.query {
				params = append(params, obj{"name": q.name, "in": "query", "required": q.required, "description": q.desc, "schema": tStr})
			}
			if len(params) > 0 {
				op["parameters"] = params
			}
			if rt.body != "" {
				op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(rt.body)}}}
			}
			status := rt.status
			if status == 0 {
				status = http.StatusOK
			}
			ok := obj{"description": http.StatusText(status)}
			switch {
			case rt.resp == "websocket":
				status = http.StatusSwitchingProtocols
				ok = obj{"description": "WebSocket upgrade"}
			case strings.Contains(rt.resp, "/"):
				ok["content"] = obj{rt.resp: obj{"schema": obj{"type": "string", "format": "binary"}}}
			case rt.resp == "object":
				ok["content"] = obj{"application/json": obj{"schema": obj{"type": "object"}}}
			case rt.resp != "":
				ok["content"] = obj{"application/json": obj{"schema": ref(rt.resp)}}
			}
			resps := obj{strconv.Itoa(status): ok}
			if rt.body != "" || len(rt.query) > 0 && rt.tag != "play" {
				resps["400"] = errResp("Bad request")
			}
			if rt.auth {
				op["security"] = []obj{{"bearer": []string{}}, {"token": []string{}}}
				resps["401"] = errResp("Missing or invalid token")
			} else {
				op["security"] = []obj{}
			}
			if strings.Contains(rt.path, "{") {
				resps["404"] = errResp("Not found")
			}
			if rt.tag == "play" {
				resps["503"] = errResp("The stream could not be started")
			}
			op["responses"] = resps
			item[strings.ToLower(m)] = op
		}
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "NVR API", "version": s.Version,
			"description": "GB28181/ONVIF/RTSP video platform. Errors are {\"error\":{\"code\",\"message\"}}."},
		"paths": paths,
		"components": obj{
			"schemas": schemas,
			"securitySchemes": obj{
				"bearer": obj{"type": "http", "scheme": "bearer"},
				"token":  obj{"type": "apiKey", "in": "query", "name": "token"},
			},
		},
	}
}

func (s *Server) openapi(c *gin.Context) { c.JSON(http.StatusOK, s.OpenAPI()) }
