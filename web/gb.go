package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
	devgb "github.com/nvr/nvr/device/gb"
)

// Paging of GET /api/v1/events: alarms pile up, so a page is bounded.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
)

// gb returns the GB28181 service, answering 503 itself when the platform
// runs without one.
func (s *Server) gb(c *gin.Context) (*devgb.Service, bool) {
	if s.GB == nil {
		abort(c, http.StatusServiceUnavailable, codeUnavailableGB, "GB28181 signalling is not running")
		return nil, false
	}
	return s.GB, true
}

// provisionGB adds a GB28181 device before it registers.
func (s *Server) provisionGB(c *gin.Context, req deviceCreate) {
	g, ok := s.gb(c)
	if !ok {
		return
	}
	if req.GBID == "" {
		abort(c, http.StatusBadRequest, codeBadRequest,
			"GB28181 devices add themselves by registering with the SIP server; to add one beforehand (own password, or sip.auto_accept off) give its 20-digit gb_id")
		return
	}
	if req.URL != "" {
		abort(c, http.StatusBadRequest, codeBadRequest, "url does not apply to gb28181 devices")
		return
	}
	d, err := g.Provision(c.Request.Context(), devgb.NewDevice{
		GBID: req.GBID, Name: req.Name, Password: req.Password, Charset: req.Charset, StreamTransport: req.StreamTransport,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.deviceDTO(d, nil))
}

// patchGBDevice changes a GB28181 device's name and settings.
func (s *Server) patchGBDevice(c *gin.Context, id int64, req devicePatch) {
	if req.URL != nil {
		abort(c, http.StatusBadRequest, codeBadRequest, "url does not apply to gb28181 devices")
		return
	}
	if req.AlwaysOn != nil {
		abort(c, http.StatusBadRequest, codeBadRequest, "always_on is set on the channels of gb28181 devices")
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	p := devgb.Patch{Name: req.Name, Password: req.Password, Charset: req.Charset, StreamTransport: req.StreamTransport}
	if _, err := g.Update(c.Request.Context(), id, p); err != nil {
		s.fail(c, err)
		return
	}
	s.writeDevice(c, id, http.StatusOK)
}

// syncResultDTO is what POST /devices/{id}/sync changed.
type syncResultDTO struct {
	Added    int  `json:"added"`
	Updated  int  `json:"updated"`
	Removed  int  `json:"removed"`
	Total    int  `json:"total"`
	Complete bool `json:"complete"`
}

func (s *Server) syncDevice(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	res, err := g.SyncCatalog(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, syncResultDTO(res))
}

type ptzRequest struct {
	Action string `json:"action"`
	Speed  *int   `json:"speed"`
	Preset *int   `json:"preset"`
}

func (s *Server) ptzChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req ptzRequest
	if !bindJSON(c, &req) {
		return
	}
	if isONVIF, ok := s.channelIsONVIF(c, id); !ok || isONVIF {
		if ok {
			s.ptzONVIF(c, id, req)
		}
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	if err := g.PTZ(c.Request.Context(), id, devgb.PTZRequest(req)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type presetDTO struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func (s *Server) channelPresets(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if isONVIF, ok := s.channelIsONVIF(c, id); !ok || isONVIF {
		if ok {
			s.presetsONVIF(c, id)
		}
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	ps, err := g.Presets(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]presetDTO, len(ps))
	for i, p := range ps {
		items[i] = presetDTO(p)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
}

type recordDTO struct {
	ChannelGBID string    `json:"channel_gb_id"`
	Name        string    `json:"name"`
	FilePath    string    `json:"file_path"`
	Address     string    `json:"address"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Secrecy     int       `json:"secrecy"`
	Type        string    `json:"type"`
	RecorderID  string    `json:"recorder_id"`
	FileSize    int64     `json:"file_size"`
}

// timeQuery reads an RFC 3339 query parameter; zero when absent. It answers
// 400 itself on a bad value.
func timeQuery(c *gin.Context, name string) (time.Time, bool) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("%s must be an RFC 3339 time such as 2024-05-01T08:00:00+08:00", name))
		return time.Time{}, false
	}
	return t, true
}

// intQuery reads a non-negative integer query parameter; def when absent.
func intQuery(c *gin.Context, name string, def int) (int, bool) {
	v := c.Query(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		abort(c, http.StatusBadRequest, codeBadRequest, name+" must be a non-negative integer")
		return 0, false
	}
	return n, true
}

func (s *Server) deviceRecords(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	start, ok := timeQuery(c, "start")
	if !ok {
		return
	}
	end, ok := timeQuery(c, "end")
	if !ok {
		return
	}
	if start.IsZero() || end.IsZero() {
		abort(c, http.StatusBadRequest, codeBadRequest, "start and end are required (RFC 3339)")
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	recs, complete, err := g.Records(c.Request.Context(), id, c.Query("channel"), start, end)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]recordDTO, len(recs))
	for i, r := range recs {
		items[i] = recordDTO(r)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items), "complete": complete})
}

func (s *Server) rebootDevice(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	if err := g.Reboot(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}

type alarmStatusDTO struct {
	ID         string `json:"id"`
	DutyStatus string `json:"duty_status"`
}

type deviceStatusDTO struct {
	Online     string           `json:"online"`
	Status     string           `json:"status"`
	Reason     string           `json:"reason,omitempty"`
	Encode     string           `json:"encode"`
	Record     string           `json:"record"`
	DeviceTime *time.Time       `json:"device_time"`
	Alarms     []alarmStatusDTO `json:"alarms"`
}

func (s *Server) deviceStatus(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	st, err := g.Status(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := deviceStatusDTO{Online: st.Online, Status: st.Status, Reason: st.Reason, Encode: st.Encode,
		Record: st.Record, DeviceTime: timePtr(st.DeviceTime), Alarms: make([]alarmStatusDTO, len(st.Alarms))}
	for i, a := range st.Alarms {
		out.Alarms[i] = alarmStatusDTO(a)
	}
	c.JSON(http.StatusOK, out)
}

type deviceConfigDTO struct {
	Name              string `json:"name"`
	DeviceID          string `json:"device_id"`
	SIPServerID       string `json:"sip_server_id"`
	SIPServerIP       string `json:"sip_server_ip"`
	SIPServerPort     int    `json:"sip_server_port"`
	DomainName        string `json:"domain_name"`
	Expiration        int    `json:"expiration"`
	HeartBeatInterval int    `json:"heartbeat_interval"`
	HeartBeatCount    int    `json:"heartbeat_count"`
}

func (s *Server) deviceConfig(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	g, ok := s.gb(c)
	if !ok {
		return
	}
	cfg, err := g.Config(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, deviceConfigDTO(*cfg))
}

type eventDTO struct {
	ID          int64     `json:"id"`
	DeviceID    int64     `json:"device_id"`
	ChannelGBID string    `json:"channel_gb_id,omitempty"`
	Kind        string    `json:"kind"`
	Priority    int       `json:"priority"`
	Method      int       `json:"method"`
	AlarmType   string    `json:"alarm_type,omitempty"`
	Description string    `json:"description"`
	Longitude   float64   `json:"longitude"`
	Latitude    float64   `json:"latitude"`
	Time        time.Time `json:"time"`
	CreatedAt   time.Time `json:"created_at"`
}

func (s *Server) listEvents(c *gin.Context) {
	var f device.EventFilter
	var ok bool
	if v := c.Query("device_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			abort(c, http.StatusBadRequest, codeBadRequest, "device_id must be a device ID")
			return
		}
		f.DeviceID = n
	}
	f.Kind = c.Query("kind")
	if f.Since, ok = timeQuery(c, "since"); !ok {
		return
	}
	if f.Until, ok = timeQuery(c, "until"); !ok {
		return
	}
	if f.Offset, ok = intQuery(c, "offset", 0); !ok {
		return
	}
	if f.Limit, ok = intQuery(c, "limit", defaultEventLimit); !ok {
		return
	}
	if f.Limit == 0 || f.Limit > maxEventLimit {
		abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("limit must be within 1-%d", maxEventLimit))
		return
	}
	evs, total, err := s.Store.ListEvents(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]eventDTO, len(evs))
	for i, e := range evs {
		items[i] = eventDTO{ID: e.ID, DeviceID: e.DeviceID, ChannelGBID: e.ChannelGBID, Kind: e.Kind,
			Priority: e.Priority, Method: e.Method, AlarmType: e.AlarmType, Description: e.Description,
			Longitude: e.Longitude, Latitude: e.Latitude, Time: e.Time, CreatedAt: e.CreatedAt}
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": total})
}
