package main

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// gbDevice is the part of the API's Device the gb commands use.
type gbDevice struct {
	ID              int64  `json:"id"`
	Type            string `json:"type"`
	GBID            string `json:"gb_id"`
	Online          bool   `json:"online"`
	StreamTransport string `json:"stream_transport"`
}

// gbChannel is the part of the API's Channel the gb commands use. For a
// GB28181 channel Status is the catalog's ON/OFF; StreamStatus is the
// state of its stream (idle, connecting, online, error).
type gbChannel struct {
	ID           int64  `json:"id"`
	DeviceID     int64  `json:"device_id"`
	GBID         string `json:"gb_id"`
	Kind         string `json:"kind"`
	Status       string `json:"status"`
	StreamStatus string `json:"stream_status"`
	LastError    string `json:"last_error"`
	AlwaysOn     bool   `json:"always_on"`
	Stream       string `json:"stream"`
	Play         struct {
		FLV string `json:"flv"`
	} `json:"play"`
}

// gbStream is the part of the API's Stream the gb commands use, with the
// GB28181 ingest counters.
type gbStream struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	LastError  string     `json:"last_error"`
	Bitrate    int64      `json:"bitrate"`
	FPS        float64    `json:"fps"`
	Dropped    uint64     `json:"dropped"`
	Bytes      uint64     `json:"bytes"`
	StartedAt  time.Time  `json:"started_at"`
	LastUnitAt *time.Time `json:"last_unit_at"`
	Ingest     *gbIngest  `json:"ingest"`
}

// gbIngest is how a GB28181 stream's media arrives: its RTP transport and
// counters since the stream started.
type gbIngest struct {
	Protocol  string `json:"protocol"`
	Transport string `json:"transport"`
	SSRC      string `json:"ssrc"`
	Packets   uint64 `json:"packets"`
	Lost      uint64 `json:"lost"`
	Reordered uint64 `json:"reordered"`
}

// gbDevices lists the GB28181 devices.
func (c *apiClient) gbDevices(ctx context.Context) ([]gbDevice, error) {
	var out struct {
		Items []gbDevice `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/devices?type=gb28181", nil, &out, http.StatusOK)
	return out.Items, err
}

// gbDeviceChannels lists the channels of one device.
func (c *apiClient) gbDeviceChannels(ctx context.Context, id int64) ([]gbChannel, error) {
	var out struct {
		Items []gbChannel `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/devices/"+strconv.FormatInt(id, 10)+"/channels", nil, &out, http.StatusOK)
	return out.Items, err
}

// setAlwaysOn marks a channel always-on (the hub starts it and keeps it
// running) or on demand.
func (c *apiClient) setAlwaysOn(ctx context.Context, id int64, on bool) error {
	return c.do(ctx, http.MethodPatch, "/api/v1/channels/"+strconv.FormatInt(id, 10), map[string]bool{"always_on": on}, nil, http.StatusOK)
}

// setStreamTransport sets how a GB28181 device is asked to send media:
// udp, tcp-passive or tcp-active. It applies to the next INVITE.
func (c *apiClient) setStreamTransport(ctx context.Context, id int64, transport string) error {
	return c.do(ctx, http.MethodPatch, "/api/v1/devices/"+strconv.FormatInt(id, 10), map[string]string{"stream_transport": transport}, nil, http.StatusOK)
}

// gbStreams lists the running streams by name.
func (c *apiClient) gbStreams(ctx context.Context) (map[string]gbStream, error) {
	var out struct {
		Items []gbStream `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/streams", nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	m := make(map[string]gbStream, len(out.Items))
	for _, s := range out.Items {
		m[s.Name] = s
	}
	return m, nil
}
