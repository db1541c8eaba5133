package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
)

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// bindJSON decodes the request body into v, answering 400 itself when the
// body is not valid JSON of the right shape.
func bindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		msg := "request body is not valid JSON"
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			msg = fmt.Sprintf("field %q must be a %s", te.Field, te.Type)
		case errors.Is(err, io.EOF):
			msg = "request body is empty"
		}
		abort(c, http.StatusBadRequest, codeInvalidJSON, msg)
		return false
	}
	if dec.More() {
		abort(c, http.StatusBadRequest, codeInvalidJSON, "request body has data after the JSON value")
		return false
	}
	return true
}

func idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		abort(c, http.StatusNotFound, codeNotFound, "not found")
		return 0, false
	}
	return id, true
}

func (s *Server) health(c *gin.Context) {
	db := "ok"
	status := http.StatusOK
	if err := s.Store.Ping(c.Request.Context()); err != nil {
		db, status = err.Error(), http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{
		"status":   map[bool]string{true: "ok", false: "degraded"}[status == http.StatusOK],
		"version":  s.Version,
		"uptime_s": int64(time.Since(s.started).Seconds()),
		"database": db,
		"streams":  len(s.Hub.Streams()),
	})
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if !bindJSON(c, &req) {
		return
	}
	tok, exp, err := s.Auth.Login(c.Request.Context(), req.Username, req.Password)
	if errors.Is(err, ErrBadCredentials) {
		s.log.Warn("login failed", "username", req.Username, "remote", c.ClientIP())
		abort(c, http.StatusUnauthorized, codeUnauthorized, err.Error())
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"token": tok, "expires_at": exp.UTC().Format(time.RFC3339)})
}

func (s *Server) listDevices(c *gin.Context) {
	opts := device.ListOptions{Type: device.Type(c.Query("type"))}
	for name, dst := range map[string]*int{"offset": &opts.Offset, "limit": &opts.Limit} {
		if v := c.Query(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				abort(c, http.StatusBadRequest, codeBadRequest, name+" must be a non-negative integer")
				return
			}
			*dst = n
		}
	}
	ctx := c.Request.Context()
	devs, total, err := s.Store.ListDevices(ctx, opts)
	if err != nil {
		s.fail(c, err)
		return
	}
	chans, err := s.pageChannels(ctx, devs)
	if err != nil {
		s.fail(c, err)
		return
	}
	byDev := map[int64][]*device.Channel{}
	for _, ch := range chans {
		byDev[ch.DeviceID] = append(byDev[ch.DeviceID], ch)
	}
	items := make([]deviceDTO, 0, len(devs))
	for _, d := range devs {
		items = append(items, s.deviceDTO(d, byDev[d.ID]))
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": total})
}

// channelsOfDevices is what listDevices needs to sum up a page: the channels of just the devices
// on it. *storage.DB implements it.
type channelsOfDevices interface {
	ChannelsOfDevices(ctx context.Context, deviceIDs []int64) ([]*device.Channel, error)
}

// pageChannels returns the channels of devs. A Store that cannot read them by device is asked
// for every channel, which costs in proportion to all channels stored, whatever the page size.
func (s *Server) pageChannels(ctx context.Context, devs []*device.Device) ([]*device.Channel, error) {
	cs, ok := s.Store.(channelsOfDevices)
	if !ok {
		return s.Store.Channels(ctx, 0)
	}
	if len(devs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	return cs.ChannelsOfDevices(ctx, ids)
}

type deviceCreate struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	URL      string `json:"url"`
	AlwaysOn bool   `json:"always_on"`
	// GB28181 devices added before they register.
	GBID            string `json:"gb_id"`
	Password        string `json:"password"`
	Charset         string `json:"charset"`
	StreamTransport string `json:"stream_transport"`
}

func (s *Server) createDevice(c *gin.Context) {
	var req deviceCreate
	if !bindJSON(c, &req) {
		return
	}
	switch device.Type(req.Type) {
	case device.TypeRTSP:
	case "":
		abort(c, http.StatusBadRequest, codeBadRequest, `type is required ("rtsp", or "gb28181" with gb_id)`)
		return
	case device.TypeGB28181:
		s.provisionGB(c, req)
		return
	default:
		abort(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("device type %q is not supported", req.Type))
		return
	}
	d, chans, err := s.Devices.CreateRTSP(c.Request.Context(), device.NewRTSP{Name: req.Name, URL: req.URL, AlwaysOn: req.AlwaysOn})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.deviceDTO(d, chans))
}

func (s *Server) getDevice(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	s.writeDevice(c, id, http.StatusOK)
}

func (s *Server) writeDevice(c *gin.Context, id int64, status int) {
	ctx := c.Request.Context()
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	chans, err := s.Store.Channels(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, s.deviceDTO(d, chans))
}

type devicePatch struct {
	Name     *string `json:"name"`
	URL      *string `json:"url"`
	AlwaysOn *bool   `json:"always_on"`
	// GB28181 settings.
	Password        *string `json:"password"`
	Charset         *string `json:"charset"`
	StreamTransport *string `json:"stream_transport"`
}

func (s *Server) patchDevice(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req devicePatch
	if !bindJSON(c, &req) {
		return
	}
	d, err := s.Store.Device(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if d.Type == device.TypeGB28181 {
		s.patchGBDevice(c, id, req)
		return
	}
	if req.Password != nil || req.Charset != nil || req.StreamTransport != nil {
		abort(c, http.StatusBadRequest, codeBadRequest, "password, charset and stream_transport apply to gb28181 devices only")
		return
	}
	p := device.DevicePatch{Name: req.Name, URL: req.URL, AlwaysOn: req.AlwaysOn}
	if _, err := s.Devices.UpdateDevice(c.Request.Context(), id, p); err != nil {
		s.fail(c, err)
		return
	}
	s.writeDevice(c, id, http.StatusOK)
}

func (s *Server) deleteDevice(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if err := s.Devices.DeleteDevice(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) writeChannels(c *gin.Context, deviceID int64) {
	ctx := c.Request.Context()
	chans, err := s.Store.Channels(ctx, deviceID)
	if err != nil {
		s.fail(c, err)
		return
	}
	online, err := s.devicesOnline(ctx, deviceID)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]channelDTO, 0, len(chans))
	for _, ch := range chans {
		items = append(items, s.channelDTO(ch, online[ch.DeviceID]))
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
}

// devicesOnline returns the Online of one device, or of every device when
// deviceID is 0, by ID.
func (s *Server) devicesOnline(ctx context.Context, deviceID int64) (map[int64]bool, error) {
	var devs []*device.Device
	if deviceID != 0 {
		d, err := s.Store.Device(ctx, deviceID)
		if err != nil {
			return nil, err
		}
		devs = []*device.Device{d}
	} else {
		var err error
		if devs, _, err = s.Store.ListDevices(ctx, device.ListOptions{}); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]bool, len(devs))
	for _, d := range devs {
		out[d.ID] = d.Online
	}
	return out, nil
}

// writeChannel answers with one channel.
func (s *Server) writeChannel(c *gin.Context, ch *device.Channel) {
	online, err := s.devicesOnline(c.Request.Context(), ch.DeviceID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.channelDTO(ch, online[ch.DeviceID]))
}

func (s *Server) deviceChannels(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	if _, err := s.Store.Device(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	s.writeChannels(c, id)
}

func (s *Server) listChannels(c *gin.Context) { s.writeChannels(c, 0) }

func (s *Server) getChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	ch, err := s.Store.Channel(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeChannel(c, ch)
}

type channelPatch struct {
	Name     *string `json:"name"`
	AlwaysOn *bool   `json:"always_on"`
}

func (s *Server) patchChannel(c *gin.Context) {
	id, ok := idParam(c)
	if !ok {
		return
	}
	var req channelPatch
	if !bindJSON(c, &req) {
		return
	}
	ch, err := s.Devices.UpdateChannel(c.Request.Context(), id, device.ChannelPatch(req))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeChannel(c, ch)
}

func (s *Server) listStreams(c *gin.Context) {
	infos := s.Hub.Streams()
	items := make([]streamDTO, 0, len(infos))
	for _, in := range infos {
		items = append(items, streamDTOFrom(in))
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
}
