package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
)

// Error codes of the ONVIF routes.
const (
	// codeONVIFUnauthorized (422): the camera refused the username or password. Not 401,
	// which means the API token is bad and makes the console log out.
	codeONVIFUnauthorized = "onvif_unauthorized"
	// codeNotONVIF (422): the address answers, but not as an ONVIF device service.
	codeNotONVIF = "not_onvif"
	// codeDeviceUnreachable (502): no connection to the camera could be made.
	codeDeviceUnreachable = "device_unreachable"
	// codeNotSupported (400): the camera or channel does not offer it (PTZ, snapshot, focus).
	codeNotSupported = "not_supported"
	// codeUnavailableONVIF (503): the platform runs without the ONVIF service.
	codeUnavailableONVIF = "onvif_unavailable"
)

// onvif returns the ONVIF service, answering 503 itself when the platform runs without one.
func (s *Server) onvif(c *gin.Context) (*device.ONVIFService, bool) {
	if s.ONVIF == nil {
		abort(c, http.StatusServiceUnavailable, codeUnavailableONVIF, "ONVIF is not running")
		return nil, false
	}
	return s.ONVIF, true
}

// failONVIF maps the ONVIF service's errors onto statuses, and the others as fail does. The
// message keeps what the camera did (its fault text, the HTTP status) but never a password:
// the errors name addresses, not URLs with credentials.
func (s *Server) failONVIF(c *gin.Context, err error) {
	switch {
	case errors.Is(err, device.ErrONVIFUnauthorized):
		abort(c, http.StatusUnprocessableEntity, codeONVIFUnauthorized, err.Error())
	case errors.Is(err, device.ErrNotONVIF):
		abort(c, http.StatusUnprocessableEntity, codeNotONVIF, err.Error())
	case errors.Is(err, device.ErrONVIFTimeout):
		abort(c, http.StatusGatewayTimeout, codeDeviceTimeout, err.Error())
	case errors.Is(err, device.ErrONVIFUnreachable):
		abort(c, http.StatusBadGateway, codeDeviceUnreachable, err.Error())
	case errors.Is(err, device.ErrONVIFDevice):
		abort(c, http.StatusBadGateway, codeDeviceError, err.Error())
	case errors.Is(err, device.ErrONVIFUnsupported):
		abort(c, http.StatusBadRequest, codeNotSupported, err.Error())
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		c.Abort() // the client left
	default:
		s.fail(c, err)
	}
}

// discoverRequest is the body of POST /api/v1/onvif/discover.
type discoverRequest struct {
	Interfaces []string `json:"interfaces"`
	Addresses  []string `json:"addresses"`
	TimeoutMS  int      `json:"timeout_ms"`
}

// discoveredDTO is a camera that answered WS-Discovery.
type discoveredDTO struct {
	Endpoint string    `json:"endpoint"`
	XAddrs   []string  `json:"xaddrs"`
	Name     string    `json:"name"`
	Hardware string    `json:"hardware"`
	Location string    `json:"location"`
	From     string    `json:"from"`
	Added    bool      `json:"added"`
	DeviceID int64     `json:"device_id,omitempty"`
	LastSeen time.Time `json:"last_seen"`
}

func writeDiscovered(c *gin.Context, cams []device.DiscoveredCamera) {
	items := make([]discoveredDTO, len(cams))
	for i, d := range cams {
		xs := d.XAddrs
		if xs == nil {
			xs = []string{}
		}
		items[i] = discoveredDTO{Endpoint: d.Endpoint, XAddrs: xs, Name: d.Name, Hardware: d.Hardware,
			Location: d.Location, From: d.From, Added: d.DeviceID != 0, DeviceID: d.DeviceID, LastSeen: d.LastSeen}
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
}

func (s *Server) discoverONVIF(c *gin.Context) {
	var req discoverRequest
	if !bindJSON(c, &req) {
		return
	}
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	if req.TimeoutMS < 0 || time.Duration(req.TimeoutMS)*time.Millisecond > device.MaxDiscoverTimeout {
		abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("timeout_ms must be within 0-%d", device.MaxDiscoverTimeout.Milliseconds()))
		return
	}
	cams, err := o.Discover(c.Request.Context(), device.DiscoverRequest{
		Interfaces: req.Interfaces, Addresses: req.Addresses, Timeout: time.Duration(req.TimeoutMS) * time.Millisecond,
	})
	if err != nil {
		s.failONVIF(c, err)
		return
	}
	writeDiscovered(c, cams)
}

func (s *Server) discoveredONVIF(c *gin.Context) {
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	cams, err := o.Discovered(c.Request.Context())
	if err != nil {
		s.failONVIF(c, err)
		return
	}
	writeDiscovered(c, cams)
}

// onvifCreate is the body of POST /api/v1/devices with type onvif.
type onvifCreate struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Address  string `json:"address"`
	Username string `json:"username"`
	Password string `json:"password"`
	AlwaysOn bool   `json:"always_on"`
	URL      string `json:"url"`
}

// peekBody reads a JSON request body and puts it back for the handler that follows, so that a
// route can pick its handler by a field of the body. It answers 400 itself.
func peekBody(c *gin.Context, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		abort(c, http.StatusBadRequest, codeInvalidJSON, "request body is too large or unreadable")
		return false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(raw))
	// A body that does not decode is left to the handler, which explains what is wrong.
	_ = json.Unmarshal(raw, v)
	return true
}

// createDeviceAny adds an ONVIF camera, or passes the request on to createDevice.
func (s *Server) createDeviceAny(c *gin.Context) {
	var peek struct {
		Type string `json:"type"`
	}
	if !peekBody(c, &peek) {
		return
	}
	if device.Type(peek.Type) != device.TypeONVIF {
		s.createDevice(c)
		return
	}
	var req onvifCreate
	if !bindJSON(c, &req) {
		return
	}
	if req.URL != "" {
		abort(c, http.StatusBadRequest, codeBadRequest, "onvif devices take an address (host, host:port or device service URL), not a url")
		return
	}
	if req.Address == "" {
		abort(c, http.StatusBadRequest, codeBadRequest, "address is required: the camera's host, host:port or device service URL")
		return
	}
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	d, chans, err := o.Create(c.Request.Context(), device.NewONVIF{
		Address: req.Address, Username: req.Username, Password: req.Password, Name: req.Name, AlwaysOn: req.AlwaysOn,
	})
	if err != nil {
		s.failONVIF(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.deviceDTO(d, chans))
}

// deviceType returns the type of the device of the {id} route, answering 404 itself.
func (s *Server) deviceType(c *gin.Context) (int64, device.Type, bool) {
	id, ok := idParam(c)
	if !ok {
		return 0, "", false
	}
	d, err := s.Store.Device(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return 0, "", false
	}
	return id, d.Type, true
}

// syncDeviceAny re-reads an ONVIF camera's profiles, or a GB28181 device's catalog.
func (s *Server) syncDeviceAny(c *gin.Context) {
	id, typ, ok := s.deviceType(c)
	if !ok {
		return
	}
	if typ != device.TypeONVIF {
		s.syncDevice(c)
		return
	}
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	res, err := o.Sync(c.Request.Context(), id)
	if err != nil {
		s.failONVIF(c, err)
		return
	}
	c.JSON(http.StatusOK, syncResultDTO{Added: res.Added, Updated: res.Updated, Removed: res.Removed, Total: res.Total, Complete: true})
}

// onvifPatch is the body of PATCH /api/v1/devices/{id} for an ONVIF device.
type onvifPatch struct {
	Name     *string `json:"name"`
	Address  *string `json:"address"`
	Username *string `json:"username"`
	Password *string `json:"password"`
	AlwaysOn *bool   `json:"always_on"`
	URL      *string `json:"url"`
	Charset  *string `json:"charset"`
	// StreamTransport is a GB28181 setting, refused here as url and charset are.
	StreamTransport *string `json:"stream_transport"`
}

// patchDeviceAny changes an ONVIF device, or passes the request on to patchDevice.
func (s *Server) patchDeviceAny(c *gin.Context) {
	id, typ, ok := s.deviceType(c)
	if !ok {
		return
	}
	if typ != device.TypeONVIF {
		s.patchDevice(c)
		return
	}
	var req onvifPatch
	if !bindJSON(c, &req) {
		return
	}
	if req.URL != nil || req.Charset != nil || req.StreamTransport != nil {
		abort(c, http.StatusBadRequest, codeBadRequest, "onvif devices take name, address, username, password and always_on")
		return
	}
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	p := device.ONVIFPatch{Name: req.Name, Address: req.Address, Username: req.Username, Password: req.Password, AlwaysOn: req.AlwaysOn}
	if _, err := o.Update(c.Request.Context(), id, p); err != nil {
		s.failONVIF(c, err)
		return
	}
	s.writeDevice(c, id, http.StatusOK)
}

// channelIsONVIF reports whether a channel belongs to an ONVIF device, so that the PTZ and
// preset routes, which GB28181 shares, go to the ONVIF service. It answers the request itself
// and reports ok false when the channel cannot be read (404 for an unknown one).
func (s *Server) channelIsONVIF(c *gin.Context, id int64) (isONVIF, ok bool) {
	ctx := c.Request.Context()
	ch, err := s.Store.Channel(ctx, id)
	if err != nil {
		s.fail(c, err)
		return false, false
	}
	if ch.ProfileToken == "" {
		return false, true
	}
	d, err := s.Store.Device(ctx, ch.DeviceID)
	if err != nil {
		s.fail(c, err)
		return false, false
	}
	return d.Type == device.TypeONVIF, true
}

// ptzONVIF serves POST /api/v1/channels/{id}/ptz for an ONVIF channel.
func (s *Server) ptzONVIF(c *gin.Context, id int64, req ptzRequest) {
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	if err := o.PTZ(c.Request.Context(), id, device.ONVIFPTZ{Action: req.Action, Speed: req.Speed, Preset: req.Preset}); err != nil {
		s.failONVIF(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// onvifPresetDTO is a preset of an ONVIF channel: the GB28181 shape, plus the camera's token.
type onvifPresetDTO struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Token string `json:"token"`
}

// presetsONVIF serves GET /api/v1/channels/{id}/presets for an ONVIF channel.
func (s *Server) presetsONVIF(c *gin.Context, id int64) {
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	ps, err := o.Presets(c.Request.Context(), id)
	if err != nil {
		s.failONVIF(c, err)
		return
	}
	items := make([]onvifPresetDTO, len(ps))
	for i, p := range ps {
		items[i] = onvifPresetDTO{ID: p.ID, Name: p.Name, Token: p.Token}
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
}

// snapshotChannel serves an ONVIF channel's JPEG.
func (s *Server) snapshotChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	o, ok := s.onvif(c)
	if !ok {
		return
	}
	jpeg, err := o.Snapshot(c.Request.Context(), id)
	if err != nil {
		s.failONVIF(c, err)
		return
	}
	// The service keeps a snapshot for a moment only; a browser should ask it again.
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/jpeg", jpeg)
}
