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
	// gb marks a route that reaches a GB28181 device: it documents the 409,
	// 502, 503 and 504 answers of an offline, refusing, absent or silent one.
	gb bool
	// onvif marks a route that reaches an ONVIF camera: it documents the 422,
	// 502, 503 and 504 answers of a refusing, failing or silent one.
	onvif   bool
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
	pageParams   = []param{{"offset", "records to skip", false}, {"limit", "maximum records (0: all)", false}}
	deviceParams = append([]param{{"type", "only devices of this type: rtsp, onvif, gb28181", false}}, pageParams...)
	recordParams = []param{
		{"channel", "channel ID or 20-digit GB ID; may be left out for a device with one video channel", false},
		{"start", "RFC 3339 start of the range", true},
		{"end", "RFC 3339 end of the range", true},
	}
	eventParams = []param{
		{"device_id", "only events of this device", false},
		{"kind", "only events of this kind (alarm)", false},
		{"since", "RFC 3339: events at or after", false},
		{"until", "RFC 3339: events before", false},
		{"offset", "events to skip", false},
		{"limit", "maximum events, 1-1000 (default 100)", false},
	}
	tokenParams = []param{{"token", "bearer token, for players that cannot send headers", false}}
	// recordingRangeParams are those of the recording retrieval routes, which players fetch.
	recordingRangeParams = []param{
		{"start", "RFC 3339 start of the range", true},
		{"end", "RFC 3339 end of the range", true},
		tokenParams[0],
	}
	exportParams = append(recordingRangeParams[:len(recordingRangeParams):len(recordingRangeParams)],
		param{"download", "1: answer with Content-Disposition: attachment", false})
	recordingDaysParams = []param{{"month", "YYYY-MM (default: this month)", false}, tokenParams[0]}
)

func (s *Server) routes() []route {
	return []route{
		{method: "GET", path: "/api/v1/health", summary: "Liveness and database check", tag: "system", resp: "Health", handler: s.health},
		{method: "POST", path: "/api/v1/auth/login", summary: "Exchange a username and password for a bearer token", tag: "auth", body: "LoginRequest", resp: "LoginResponse", handler: s.login},
		{method: "GET", path: "/api/v1/openapi.json", summary: "This document", tag: "system", auth: true, resp: "object", handler: s.openapi},

		{method: "GET", path: "/api/v1/devices", summary: "List devices", tag: "devices", auth: true, query: deviceParams, resp: "DeviceList", handler: s.listDevices},
		{method: "POST", path: "/api/v1/devices", summary: "Add an RTSP camera, an ONVIF camera (probed first: one channel per media profile), or a GB28181 device before it registers", tag: "devices", auth: true, body: "DeviceCreate", resp: "Device", status: http.StatusCreated, onvif: true, handler: s.createDeviceAny},
		{method: "GET", path: "/api/v1/devices/{id}", summary: "Get a device", tag: "devices", auth: true, resp: "Device", handler: s.getDevice},
		{method: "PATCH", path: "/api/v1/devices/{id}", summary: "Change a device (GB28181: name, password, charset, stream_transport; ONVIF: name, address, username, password, always_on)", tag: "devices", auth: true, body: "DevicePatch", resp: "Device", onvif: true, handler: s.patchDeviceAny},
		{method: "DELETE", path: "/api/v1/devices/{id}", summary: "Delete a device and its channels", tag: "devices", auth: true, status: http.StatusNoContent, handler: s.deleteDevice},
		{method: "GET", path: "/api/v1/devices/{id}/channels", summary: "List a device's channels", tag: "channels", auth: true, resp: "ChannelList", handler: s.deviceChannels},
		{method: "POST", path: "/api/v1/devices/{id}/sync", summary: "Ask a GB28181 device for its catalog, or an ONVIF camera for its media profiles, now and store them", tag: "gb28181", auth: true, gb: true, onvif: true, resp: "SyncResult", handler: s.syncDeviceAny},
		{method: "GET", path: "/api/v1/devices/{id}/records", summary: "Recordings held by a GB28181 device (RecordInfo)", tag: "gb28181", auth: true, gb: true, query: recordParams, resp: "RecordList", handler: s.deviceRecords},
		{method: "GET", path: "/api/v1/devices/{id}/status", summary: "A GB28181 device's own status (DeviceStatus)", tag: "gb28181", auth: true, gb: true, resp: "DeviceStatus", handler: s.deviceStatus},
		{method: "GET", path: "/api/v1/devices/{id}/config", summary: "A GB28181 device's basic configuration (ConfigDownload BasicParam)", tag: "gb28181", auth: true, gb: true, resp: "DeviceConfig", handler: s.deviceConfig},
		{method: "POST", path: "/api/v1/devices/{id}/reboot", summary: "Restart a GB28181 device (TeleBoot)", tag: "gb28181", auth: true, gb: true, status: http.StatusAccepted, handler: s.rebootDevice},
		{method: "POST", path: "/api/v1/devices/{id}/guard", summary: "Arm (set) or disarm (reset) a GB28181 device's alarm inputs (GuardCmd)", tag: "gb28181", auth: true, gb: true, body: "GuardRequest", status: http.StatusNoContent, handler: s.guardDevice},

		{method: "GET", path: "/api/v1/channels", summary: "List all channels", tag: "channels", auth: true, resp: "ChannelList", handler: s.listChannels},
		{method: "GET", path: "/api/v1/channels/{id}", summary: "Get a channel", tag: "channels", auth: true, resp: "Channel", handler: s.getChannel},
		{method: "PATCH", path: "/api/v1/channels/{id}", summary: "Change a channel (name, always_on)", tag: "channels", auth: true, body: "ChannelPatch", resp: "Channel", handler: s.patchChannel},
		{method: "POST", path: "/api/v1/channels/{id}/ptz", summary: "Move, zoom, focus or use presets of a GB28181 channel (PTZCmd) or an ONVIF channel (ContinuousMove, Stop, presets)", tag: "gb28181", auth: true, gb: true, onvif: true, body: "PTZRequest", status: http.StatusNoContent, handler: s.ptzChannel},
		{method: "GET", path: "/api/v1/channels/{id}/presets", summary: "PTZ presets of a GB28181 channel (PresetQuery) or an ONVIF channel (GetPresets)", tag: "gb28181", auth: true, gb: true, onvif: true, resp: "PresetList", handler: s.channelPresets},
		{method: "POST", path: "/api/v1/channels/{id}/iframe", summary: "Ask a GB28181 channel for a key frame now (IFameCmd)", tag: "gb28181", auth: true, gb: true, status: http.StatusNoContent, handler: s.iframeChannel},
		{method: "POST", path: "/api/v1/channels/{id}/record", summary: "Start or stop recording of a GB28181 channel on its device (RecordCmd)", tag: "gb28181", auth: true, gb: true, body: "RecordRequest", status: http.StatusNoContent, handler: s.recordChannel},

		{method: "POST", path: "/api/v1/channels/{id}/playback", summary: "Replay a GB28181 channel's recordings held by the device: a session and its play URLs", tag: "gb28181", auth: true, gb: true, body: "PlaybackRequest", resp: "Playback", status: http.StatusCreated, handler: s.startPlayback},
		{method: "GET", path: "/api/v1/playback/{session}", summary: "A playback session", tag: "gb28181", auth: true, resp: "Playback", handler: s.getPlayback},
		{method: "POST", path: "/api/v1/playback/{session}/control", summary: "Pause, resume, seek or change the speed of a playback (MANSRTSP)", tag: "gb28181", auth: true, gb: true, body: "PlaybackControl", status: http.StatusNoContent, handler: s.controlPlayback},
		{method: "DELETE", path: "/api/v1/playback/{session}", summary: "End a playback session (BYE)", tag: "gb28181", auth: true, status: http.StatusNoContent, handler: s.stopPlayback},
		{method: "POST", path: "/api/v1/channels/{id}/download", summary: "Copy a GB28181 channel's recording from the device to an MP4 file", tag: "gb28181", auth: true, gb: true, body: "DownloadRequest", resp: "Download", status: http.StatusAccepted, handler: s.startDownload},
		{method: "GET", path: "/api/v1/downloads", summary: "Downloads from devices, newest first", tag: "gb28181", auth: true, resp: "DownloadList", handler: s.listDownloads},
		{method: "GET", path: "/api/v1/downloads/{id}", summary: "A download's state and progress", tag: "gb28181", auth: true, resp: "Download", handler: s.getDownload},
		{method: "GET+HEAD", path: "/api/v1/downloads/{id}/file", summary: "The MP4 file of a finished download (HTTP Range supported)", tag: "gb28181", auth: true, query: tokenParams, resp: "video/mp4", handler: s.downloadFile},

		{method: "POST", path: "/api/v1/onvif/discover", summary: "Find ONVIF cameras with WS-Discovery: multicast on interfaces, unicast to addresses", tag: "onvif", auth: true, body: "DiscoverRequest", resp: "DiscoveredList", handler: s.discoverONVIF},
		{method: "GET", path: "/api/v1/onvif/discovered", summary: "Cameras found by recent discoveries (on request, and in the background when onvif.discovery_interval is set)", tag: "onvif", auth: true, resp: "DiscoveredList", handler: s.discoveredONVIF},
		{method: "GET+HEAD", path: "/api/v1/channels/{id}/snapshot.jpg", summary: "A JPEG snapshot of an ONVIF channel, fetched from the camera (kept for onvif.snapshot_cache)", tag: "onvif", auth: true, onvif: true, query: tokenParams, resp: "image/jpeg", handler: s.snapshotChannel},

		{method: "GET", path: "/api/v1/channels/{id}/recording", summary: "A channel's recording policy", tag: "recordings", auth: true, resp: "RecordingPolicy", handler: s.getRecordingPolicy},
		{method: "PUT", path: "/api/v1/channels/{id}/recording", summary: "Set a channel's recording policy: off, continuous or a weekly schedule, and how long recordings are kept; applied at once", tag: "recordings", auth: true, body: "RecordingPolicyRequest", resp: "RecordingPolicy", handler: s.putRecordingPolicy},
		{method: "GET", path: "/api/v1/channels/{id}/recordings", summary: "A channel's recordings over a range (at most 32 days): recorded ranges (contiguous segments merged, gaps visible) and segments", tag: "recordings", auth: true, query: recordingRangeParams, resp: "RecordingList", handler: s.listRecordings},
		{method: "DELETE", path: "/api/v1/channels/{id}/recordings", summary: "Delete the segments wholly inside a range; segments reaching outside it, and segments being read, are kept", tag: "recordings", auth: true, query: recordingRangeParams, resp: "RecordingDeletion", handler: s.deleteRecordings},
		{method: "GET", path: "/api/v1/channels/{id}/recordings/days", summary: "The days of a month that have recordings, with recorded seconds (server time zone)", tag: "recordings", auth: true, query: recordingDaysParams, resp: "RecordingDays", handler: s.listRecordingDays},
		{method: "GET+HEAD", path: "/api/v1/channels/{id}/recordings/export.mp4", summary: "One MP4 of a range (at most 6 h) across segments, starting exactly at start (edit list), built on request: Content-Length, ETag and Range", tag: "recordings", auth: true, query: exportParams, resp: "video/mp4", handler: s.exportRecordings},
		{method: "GET", path: "/api/v1/channels/{id}/recordings/index.m3u8", summary: "HLS VOD playlist (fMP4) over the segments overlapping a range (at most 24 h), for players; segment URLs carry the token", tag: "recordings", auth: true, query: recordingRangeParams, resp: "application/vnd.apple.mpegurl", handler: s.recordingPlaylist},
		{method: "GET+HEAD", path: "/api/v1/recordings/{id}.mp4", summary: "One segment file (fragmented MP4), with Range: what VOD playlists point at", tag: "recordings", auth: true, query: tokenParams, resp: "video/mp4", handler: s.serveSegment},
		{method: "GET", path: "/api/v1/storage", summary: "Recordings' storage: used and free bytes, oldest recording, and each recorded channel's state and write rate", tag: "recordings", auth: true, resp: "Storage", handler: s.storageStatus},

		{method: "GET", path: "/api/v1/events", summary: "Events reported by devices (GB28181 alarms), newest first", tag: "events", auth: true, query: eventParams, resp: "EventList", handler: s.listEvents},

		{method: "GET", path: "/api/v1/streams", summary: "Running streams with codecs, bitrate, readers and drops", tag: "streams", auth: true, resp: "StreamList", handler: s.listStreams},

		{method: "GET+HEAD", path: "/live/{stream}.flv", summary: "HTTP-FLV live stream", tag: "play", auth: true, query: tokenParams, resp: "video/x-flv", handler: s.playFLV},
		{method: "GET", path: "/live/{stream}/{file}", summary: "HLS live stream (index.m3u8, fMP4 segments)", tag: "play", auth: true, query: tokenParams, resp: "application/vnd.apple.mpegurl", handler: s.playHLS},
		{method: "GET", path: "/ws/live/{stream}.flv", summary: "FLV over WebSocket (binary messages)", tag: "play", auth: true, query: tokenParams, resp: "websocket", handler: s.playWSFLV},
		{method: "GET", path: "/ws/live/{stream}.mp4", summary: "fMP4 over WebSocket for MSE: a JSON init message with the MIME type, then the init segment and fragments", tag: "play", auth: true, query: tokenParams, resp: "websocket", handler: s.playWSFMP4},
	}
}
