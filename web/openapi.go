package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	devgb "github.com/nvr/nvr/device/gb"
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
	// tTimeNull is a time that is null when it never happened.
	tTimeNull = obj{"type": "string", "format": "date-time", "nullable": true}
)

// schemas are the component schemas named by the route table.
var schemas = obj{
	"Error":         props([]string{"error"}, obj{"error": props([]string{"code", "message"}, obj{"code": tStr, "message": tStr})}),
	"Health":        props([]string{"status"}, obj{"status": tStr, "version": tStr, "uptime_s": tInt, "database": tStr, "streams": tInt}),
	"LoginRequest":  props([]string{"username", "password"}, obj{"username": tStr, "password": obj{"type": "string", "format": "password"}}),
	"LoginResponse": props([]string{"token"}, obj{"token": tStr, "expires_at": tTime}),
	"DeviceCreate": props([]string{"type"}, obj{
		"type": obj{"type": "string", "enum": []string{"rtsp", "onvif", "gb28181"},
			"description": "onvif probes the camera first (clock, identity, profiles, stream and snapshot URIs) and stores nothing when that fails; gb28181 adds a device before it registers (own password, or sip.auto_accept off); devices also add themselves by registering"},
		"name":      obj{"type": "string", "description": "onvif: empty means manufacturer and model"},
		"url":       obj{"type": "string", "example": "rtsp://user:pass@192.0.2.10:554/stream1", "description": "rtsp only, required there"},
		"address":   obj{"type": "string", "example": "192.0.2.10:80", "description": "onvif only, required there: host, host:port or device service URL (XAddr)"},
		"username":  obj{"type": "string", "description": "onvif only: the camera account, also used for RTSP and snapshots"},
		"always_on": tBool,
		"gb_id":     obj{"type": "string", "pattern": "^[0-9]{20}$", "description": "gb28181 only, required there"},
		"password":  obj{"type": "string", "format": "password", "description": "gb28181: the device's own SIP password; empty uses sip.password. onvif: the camera account's password"},
		"charset":   obj{"type": "string", "enum": charsets}, "stream_transport": obj{"type": "string", "enum": streamTransports}}),
	"DevicePatch": props(nil, obj{"name": tStr,
		"url":              obj{"type": "string", "description": "rtsp only; a password of *** keeps the stored one"},
		"always_on":        obj{"type": "boolean", "description": "rtsp and onvif (every channel)"},
		"address":          obj{"type": "string", "description": "onvif only: a new address is probed (and the profiles re-read) before it is stored"},
		"username":         obj{"type": "string", "description": "onvif only: probed before it is stored"},
		"password":         obj{"type": "string", "format": "password", "description": "gb28181: the device's own SIP digest password; \"\" falls back to sip.password. onvif: the camera account's password, probed before it is stored; *** keeps the stored one"},
		"charset":          obj{"type": "string", "enum": charsets, "description": "gb28181 only: the charset requests to the device are written in, effective at once"},
		"stream_transport": obj{"type": "string", "enum": streamTransports, "description": "gb28181 only: how the device is asked to send media"}}),
	"Device": props([]string{"id", "type", "name", "status"}, obj{
		"id": tInt, "type": obj{"type": "string", "enum": []string{"rtsp", "onvif", "gb28181"}}, "name": tStr,
		"url":    obj{"type": "string", "description": "source URL with the password masked as ***"},
		"status": obj{"type": "string", "enum": []string{"idle", "connecting", "online", "error"}, "description": "the most advanced state of the device's streams"}, "last_error": tStr,
		"always_on": tBool, "channel_count": tInt, "created_at": tTime, "updated_at": tTime,
		"online":         obj{"type": "boolean", "description": "gb28181 and onvif (as are last_keepalive, manufacturer, model, firmware, has_password). gb28181: registered, and keepalives arrive; onvif: answered the last reachability polls"},
		"last_keepalive": obj{"type": "string", "format": "date-time", "nullable": true, "description": "gb28181: the last keepalive; onvif: the last answered poll"},
		"manufacturer":   tStr, "model": tStr, "firmware": tStr,
		"xaddr":           obj{"type": "string", "description": "onvif only (as are the fields up to clock_offset_ms): the device service URL"},
		"username":        obj{"type": "string", "description": "the camera account"},
		"serial":          tStr,
		"clock_offset_ms": obj{"type": "integer", "description": "the camera's clock minus the platform's; requests are signed with the camera's time"},
		"gb_id":           obj{"type": "string", "description": "gb28181 only (as are the fields below): the 20-digit device ID"},
		"registered_at":   tTimeNull, "expires_at": tTimeNull,
		"transport":        obj{"type": "string", "enum": []string{"udp", "tcp"}, "description": "SIP transport of the registration"},
		"remote_addr":      obj{"type": "string", "description": "ip:port the device's requests come from (after NAT)"},
		"charset":          obj{"type": "string", "enum": append([]string{""}, charsets...), "description": "empty until the device's first answer"},
		"stream_transport": obj{"type": "string", "enum": streamTransports},
		"has_password":     obj{"type": "boolean", "description": "gb28181: the device has its own SIP password; onvif: the camera account has a password (never shown)"},
		"longitude":        tNum, "latitude": tNum, "position_at": obj{"type": "string", "format": "date-time", "description": "time of the last MobilePosition; absent when none came"}}),
	"DeviceList": props([]string{"items", "total"}, obj{"items": obj{"type": "array", "items": ref("Device")}, "total": tInt}),
	"PlayURLs":   props([]string{"flv", "ws_flv", "hls", "ws_fmp4"}, obj{"flv": tStr, "ws_flv": tStr, "hls": tStr, "ws_fmp4": tStr}),
	"Channel": props([]string{"id", "device_id", "name", "status", "stream_status", "play"}, obj{
		"id": tInt, "device_id": tInt, "name": tStr,
		"status": obj{"type": "string", "enum": []string{"idle", "connecting", "online", "error", "ON", "OFF"},
			"description": "RTSP channels: the stream's state (as stream_status). GB28181 channels: ON or OFF as the catalog says, OFF while the device is offline. ONVIF channels: ON while the reachability poll finds the camera"},
		"stream_status": obj{"type": "string", "enum": []string{"idle", "connecting", "online", "error"}, "description": "the stream's state, for every channel"},
		"last_error":    tStr,
		"status_since":  tTime, "always_on": tBool, "stream": tStr, "play": ref("PlayURLs"), "created_at": tTime, "updated_at": tTime,
		"gb_id":     obj{"type": "string", "description": "gb28181 only (as are the fields below): the catalog ID"},
		"parent_id": obj{"type": "string", "description": "the catalog node above (the device, a business group, a virtual organisation); empty at the top"},
		"kind": obj{"type": "string", "enum": []string{"channel", "business_group", "virtual_org", "civil_code", "device"},
			"description": "channel is a video source; the others are nodes of the catalog tree"},
		"ptz_type":   obj{"type": "integer", "description": "0 unknown, 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled lens"},
		"civil_code": tStr, "address": tStr, "longitude": tNum, "latitude": tNum, "manufacturer": tStr, "model": tStr,
		"profile_token": obj{"type": "string", "description": "onvif only (as are the fields below): the media profile"},
		"role":          obj{"type": "string", "enum": []string{"main", "sub", "other"}, "description": "the profile's rank by resolution within its video source"},
		"codec":         tStr, "width": tInt, "height": tInt, "fps": tInt,
		"ptz":      obj{"type": "boolean", "description": "PTZ works with this profile"},
		"snapshot": obj{"type": "string", "description": "API path of the JPEG snapshot; absent when the camera has none"}}),
	"ChannelPatch": props(nil, obj{"name": tStr, "always_on": tBool}),
	"ChannelList":  props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Channel")}, "total": tInt}),
	"Track":        props([]string{"codec", "kind"}, obj{"codec": tStr, "kind": tStr, "width": tInt, "height": tInt, "sample_rate": tInt, "channels": tInt}),
	"Stream": props([]string{"name", "codecs", "bitrate", "readers", "dropped"}, obj{
		"name": tStr, "status": tStr, "last_error": tStr, "always_on": tBool,
		"codecs": obj{"type": "array", "items": tStr}, "resolution": tStr, "tracks": obj{"type": "array", "items": ref("Track")},
		"bitrate": obj{"type": "integer", "description": "bits per second"}, "fps": tNum, "readers": tInt,
		"dropped": obj{"type": "integer", "description": "units skipped by slow readers"}, "bytes": tInt,
		"started_at": tTime, "last_unit_at": tTime, "ingest": ref("Ingest")}),
	"Ingest": props([]string{"protocol", "packets", "lost"}, obj{
		"protocol": tStr, "transport": obj{"type": "string", "enum": []string{"udp", "tcp", "tcp-passive", "tcp-active"}},
		"local_port": tInt, "remote": tStr, "ssrc": tStr, "packets": tInt, "lost": tInt, "reordered": tInt, "loss_percent": tNum}),
	"PlaybackRequest": props([]string{"start", "end"}, obj{
		"start": obj{"type": "string", "format": "date-time", "description": "RFC 3339 (Unix seconds also accepted)"},
		"end":   obj{"type": "string", "format": "date-time", "description": "RFC 3339 (Unix seconds also accepted)"}}),
	"Playback": props([]string{"session", "stream", "play"}, obj{
		"session": tStr, "channel_id": tInt, "stream": tStr, "start": tTime, "end": tTime, "play": ref("PlayURLs"), "created_at": tTime}),
	"PlaybackControl": props([]string{"action"}, obj{
		"action":   obj{"type": "string", "enum": []string{"pause", "resume", "seek", "speed"}},
		"position": obj{"type": "number", "description": "seek: seconds from the session's start"},
		"scale":    obj{"type": "number", "minimum": 0.25, "maximum": 8, "description": "speed: 1 = real time"}}),
	"DownloadRequest": props([]string{"start", "end"}, obj{
		"start": obj{"type": "string", "format": "date-time"}, "end": obj{"type": "string", "format": "date-time"},
		"speed": obj{"type": "integer", "minimum": 1, "maximum": 8, "description": "times real time (default 1)"}}),
	"Download": props([]string{"id", "state", "progress"}, obj{
		"id": tStr, "channel_id": tInt, "start": tTime, "end": tTime, "speed": tInt,
		"state":    obj{"type": "string", "enum": []string{"running", "done", "failed"}},
		"progress": obj{"type": "number", "description": "0 to 1"}, "bytes": tInt, "error": tStr, "url": tStr,
		"created_at": tTime, "finished_at": tTime}),
	"DownloadList": props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Download")}, "total": tInt}),
	"StreamList":   props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Stream")}, "total": tInt}),

	"SyncResult": props([]string{"added", "updated", "removed", "total", "complete"}, obj{
		"added": tInt, "updated": tInt, "removed": tInt,
		"total":    obj{"type": "integer", "description": "catalog items received (gb28181), or profiles that are channels (onvif)"},
		"complete": obj{"type": "boolean", "description": "false when sip.catalog_timeout cut the catalog short; then nothing was removed"}}),
	"PTZRequest": props([]string{"action"}, obj{
		"action": obj{"type": "string", "enum": ptzActions},
		"speed":  obj{"type": "integer", "minimum": 0, "maximum": 255, "default": 128, "description": "pan, tilt, focus and iris speed; zoom uses speed>>4"},
		"preset": obj{"type": "integer", "minimum": 1, "maximum": 255, "description": "required by preset_set, preset_call, preset_delete"}}),
	"RecordRequest": props([]string{"action"}, obj{
		"action": obj{"type": "string", "enum": recordActions, "description": "start (RecordCmd Record) or stop (StopRecord) the device's recording"}}),
	"GuardRequest": props([]string{"action"}, obj{
		"action": obj{"type": "string", "enum": guardActions, "description": "set (GuardCmd SetGuard: arm) or reset (ResetGuard: disarm)"}}),
	"Preset": props([]string{"id", "name"}, obj{"id": obj{"type": "integer", "description": "the number PTZ requests name; onvif: the token when every token is a number, else the position in the camera's list"},
		"name": tStr, "token": obj{"type": "string", "description": "onvif only: the camera's preset token"}}),
	"PresetList": props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Preset")}, "total": tInt}),
	"DiscoverRequest": props(nil, obj{
		"interfaces": obj{"type": "array", "items": tStr, "description": "interfaces to send a multicast probe on, e.g. eth0"},
		"addresses":  obj{"type": "array", "items": tStr, "description": "host or host:port (default port 3702) to send a unicast probe to; both lists empty means every multicast interface"},
		"timeout_ms": obj{"type": "integer", "minimum": 0, "maximum": 30000, "description": "how long answers are collected (0: 3000)"}}),
	"Discovered": props([]string{"endpoint", "xaddrs", "added"}, obj{
		"endpoint": obj{"type": "string", "description": "the camera's WS-Addressing endpoint reference, urn:uuid:…"},
		"xaddrs":   obj{"type": "array", "items": tStr, "description": "device service URLs; one of them is the address to add the camera with"},
		"name":     tStr, "hardware": tStr, "location": tStr,
		"from":      obj{"type": "string", "description": "ip:port the answer came from"},
		"added":     obj{"type": "boolean", "description": "a device with one of these addresses exists"},
		"device_id": obj{"type": "integer", "description": "that device; absent when not added"},
		"last_seen": tTime}),
	"DiscoveredList": props([]string{"items"}, obj{"items": obj{"type": "array", "items": ref("Discovered")}, "total": tInt}),
	"Record": props([]string{"channel_gb_id", "start", "end"}, obj{
		"channel_gb_id": tStr, "name": tStr, "file_path": tStr, "address": tStr, "start": tTime, "end": tTime,
		"secrecy": tInt, "type": obj{"type": "string", "description": "time, alarm or manual"}, "recorder_id": tStr,
		"file_size": obj{"type": "integer", "description": "bytes; 0 when the device does not say"}}),
	"RecordList": props([]string{"items", "complete"}, obj{"items": obj{"type": "array", "items": ref("Record")}, "total": tInt,
		"complete": obj{"type": "boolean", "description": "false when sip.catalog_timeout cut the answer short"}}),
	"DeviceStatus": props([]string{"online", "status"}, obj{
		"online": obj{"type": "string", "description": "ONLINE or OFFLINE"}, "status": obj{"type": "string", "description": "OK or ERROR"},
		"reason": tStr, "encode": tStr, "record": tStr, "device_time": tTimeNull,
		"alarms": obj{"type": "array", "items": props(nil, obj{"id": tStr, "duty_status": obj{"type": "string", "description": "ONDUTY, OFFDUTY or ALARM"}})}}),
	"DeviceConfig": props(nil, obj{"name": tStr, "device_id": tStr, "sip_server_id": tStr, "sip_server_ip": tStr,
		"sip_server_port": tInt, "domain_name": tStr, "expiration": obj{"type": "integer", "description": "seconds"},
		"heartbeat_interval": obj{"type": "integer", "description": "seconds"}, "heartbeat_count": tInt}),
	"Event": props([]string{"id", "device_id", "kind", "time"}, obj{
		"id": tInt, "device_id": tInt,
		"channel_gb_id": obj{"type": "string", "description": "the channel or alarm input concerned; absent for the device itself"},
		"kind":          obj{"type": "string", "enum": []string{"alarm"}},
		"priority":      obj{"type": "integer", "description": "1 (highest) to 4"},
		"method":        obj{"type": "integer", "description": "1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other"},
		"alarm_type":    tStr, "description": tStr, "longitude": tNum, "latitude": tNum,
		"time":       obj{"type": "string", "format": "date-time", "description": "by the device's clock (the platform's when the device's is a day off)"},
		"created_at": tTime}),
	"EventList": props([]string{"items", "total"}, obj{"items": obj{"type": "array", "items": ref("Event")}, "total": tInt}),

	"ScheduleRule": props([]string{"days", "start", "end"}, obj{
		"days": obj{"type": "array", "items": obj{"oneOf": []obj{{"type": "string", "enum": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}, {"type": "integer", "minimum": 1, "maximum": 7}}},
			"description": "names, or ISO 8601 numbers (1 Monday … 7 Sunday); answers use names"},
		"start": obj{"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "example": "08:00", "description": "local time of the server"},
		"end":   obj{"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "example": "18:00", "description": "24:00 is the end of the day; an end before the start runs over midnight into the next day"}}),
	"RecordingPolicyRequest": props([]string{"mode"}, obj{
		"mode":     obj{"type": "string", "enum": []string{"off", "continuous", "schedule"}},
		"schedule": obj{"type": "array", "items": ref("ScheduleRule"), "description": "required by mode schedule: the channel is recorded while a rule covers the time (checked every few seconds); kept for the other modes"},
		"max_age":  obj{"oneOf": []obj{{"type": "string", "example": "30d"}, {"type": "integer"}}, "description": "how long this channel's recordings are kept: \"30d\", \"720h\", \"90m\" or seconds; 0 or absent uses recording.max_age"}}),
	"RecordingPolicy": props([]string{"channel_id", "mode", "schedule", "max_age"}, obj{
		"channel_id": tInt, "mode": obj{"type": "string", "enum": []string{"off", "continuous", "schedule"}},
		"schedule":   obj{"type": "array", "items": ref("ScheduleRule")},
		"max_age":    obj{"type": "string", "example": "30d", "description": "\"0\": recording.max_age applies"},
		"updated_at": tTimeNull}),
	"RecordingList": props([]string{"ranges", "segments"}, obj{
		"ranges": obj{"type": "array", "description": "recorded time, clipped to the request; holes of more than 1.5 s between segments split ranges",
			"items": props([]string{"start", "end"}, obj{"start": tTime, "end": tTime})},
		"segments": obj{"type": "array", "description": "the segment files overlapping the range, by start",
			"items": props([]string{"id", "start", "end", "bytes"}, obj{"id": tInt, "start": tTime, "end": tTime, "bytes": tInt})}}),
	"RecordingDays": props([]string{"days"}, obj{"days": obj{"type": "array", "items": props([]string{"day", "seconds", "segments"}, obj{
		"day": obj{"type": "string", "format": "date"}, "seconds": obj{"type": "number", "description": "recorded time that day"}, "segments": tInt})}}),
	"RecordingDeletion": props([]string{"deleted", "bytes", "partial", "leased"}, obj{
		"deleted": tInt, "bytes": tInt,
		"partial": obj{"type": "integer", "description": "segments overlapping the range but reaching outside it, kept whole"},
		"leased":  obj{"type": "integer", "description": "segments inside the range being read (an export, a playlist's segment), kept; delete again later"}}),
	"Storage": props([]string{"used_bytes", "segments", "channels"}, obj{
		"used_bytes": tInt, "segments": tInt,
		"free_bytes":       obj{"type": "integer", "nullable": true, "description": "free space of the recordings' file system"},
		"total_bytes":      obj{"type": "integer", "nullable": true},
		"max_bytes":        obj{"type": "integer", "description": "recording.max_bytes (0: no quota)"},
		"min_free_bytes":   obj{"type": "integer", "description": "recording.min_free_bytes (0: none)"},
		"oldest_recording": tTimeNull,
		"channels": obj{"type": "array", "items": props([]string{"channel_id", "stream", "mode", "recording", "write_rate_bps", "dropped_fragments"}, obj{
			"channel_id": tInt, "stream": tStr, "mode": tStr,
			"recording":         obj{"type": "boolean", "description": "a recorder is reading the stream now"},
			"write_rate_bps":    obj{"type": "integer", "description": "bits written per second over the last few seconds"},
			"bytes_written":     tInt,
			"segments_written":  tInt,
			"dropped_fragments": obj{"type": "integer", "description": "fragments lost because the disk fell behind"},
			"last_error":        obj{"type": "string", "description": "why the channel is not being recorded though it should be"}})}}),
}

// Enumerations shared by several schemas.
var (
	charsets         = []string{"GB2312", "GB18030", "UTF-8"}
	streamTransports = []string{"udp", "tcp-passive", "tcp-active"}
	ptzActions       = devgb.PTZActions
)

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
			if rt.gb {
				resps["400"] = errResp("Bad request, or not a GB28181 device or channel")
				resps["409"] = errResp("device_offline: the device is offline or not registered")
				resps["502"] = errResp("device_error: the device refused the request")
				resps["503"] = errResp("gb28181_unavailable: GB28181 signalling is not running")
				resps["504"] = errResp("device_timeout: the device did not answer within sip.query_timeout")
			}
			if rt.onvif {
				onvifResponses(resps, rt, errResp)
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

// onvifResponses documents the answers of a route that reaches an ONVIF camera. A route that
// reaches GB28181 devices too already has theirs, which are kept.
func onvifResponses(resps obj, rt route, errResp func(string) obj) {
	also := func(code, gbDesc, desc string) {
		if rt.gb {
			desc = gbDesc + "; " + desc
		}
		resps[code] = errResp(desc)
	}
	also("400", "Bad request, or not a GB28181 device or channel", "not_supported: the ONVIF camera or channel does not offer it (PTZ, snapshot, focus, iris)")
	if rt.body == "DeviceCreate" || rt.body == "DevicePatch" {
		resps["409"] = errResp("conflict: a camera at that address is already added")
	}
	resps["422"] = errResp("onvif_unauthorized: the camera refused the username or password; not_onvif: the address is not an ONVIF device service")
	also("502", "device_error: the device refused the request", "device_error: the camera answered with a SOAP fault or a bad reply; device_unreachable: no connection to the camera")
	also("503", "gb28181_unavailable: GB28181 signalling is not running", "onvif_unavailable: ONVIF is not running")
	also("504", "device_timeout: the device did not answer within sip.query_timeout", "device_timeout: the camera did not answer within onvif.timeout")
}
