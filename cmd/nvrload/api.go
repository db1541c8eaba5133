package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// apiTimeout bounds one API request.
const apiTimeout = 15 * time.Second

// pollInterval is how often waitOnline asks for the channel list.
const pollInterval = 500 * time.Millisecond

// errNotOnline is returned by waitOnline when channels are still not online
// at its deadline.
var errNotOnline = errors.New("channels not online")

// apiClient calls the nvr REST API as one logged-in user.
type apiClient struct {
	base  string // http://127.0.0.1:18080, no trailing slash
	http  *http.Client
	token string
}

// channel is the part of the API's Channel the tool uses.
type channel struct {
	ID        int64  `json:"id"`
	DeviceID  int64  `json:"device_id"`
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	Stream    string `json:"stream"`
	Play      struct {
		FLV string `json:"flv"`
	} `json:"play"`
}

// streamInfo is the part of the API's Stream the tool uses.
type streamInfo struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"`
	Bitrate int64   `json:"bitrate"`
	FPS     float64 `json:"fps"`
	Readers int     `json:"readers"`
	Dropped uint64  `json:"dropped"`
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: apiTimeout}}
}

// do sends a JSON request and decodes a JSON answer into out (when not nil).
func (c *apiClient) do(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// login exchanges a username and password for a token, kept for later calls.
func (c *apiClient) login(ctx context.Context, user, pass string) error {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": pass}, &out, http.StatusOK); err != nil {
		return err
	}
	if out.Token == "" {
		return errors.New("login: empty token")
	}
	c.token = out.Token
	return nil
}

// addRTSPDevice adds an RTSP camera and returns its device id.
func (c *apiClient) addRTSPDevice(ctx context.Context, name, rtspURL string, alwaysOn bool) (int64, error) {
	in := map[string]any{"type": "rtsp", "name": name, "url": rtspURL, "always_on": alwaysOn}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/devices", in, &out, http.StatusCreated); err != nil {
		return 0, err
	}
	return out.ID, nil
}

// deleteDevice deletes a device and its channels.
func (c *apiClient) deleteDevice(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/devices/"+strconv.FormatInt(id, 10), nil, nil, http.StatusNoContent)
}

// deviceChannels lists the channels of one device.
func (c *apiClient) deviceChannels(ctx context.Context, id int64) ([]channel, error) {
	var out struct {
		Items []channel `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/devices/"+strconv.FormatInt(id, 10)+"/channels", nil, &out, http.StatusOK)
	return out.Items, err
}

// channels lists every channel.
func (c *apiClient) channels(ctx context.Context) ([]channel, error) {
	var out struct {
		Items []channel `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/channels", nil, &out, http.StatusOK)
	return out.Items, err
}

// streams lists the running streams.
func (c *apiClient) streams(ctx context.Context) ([]streamInfo, error) {
	var out struct {
		Items []streamInfo `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/streams", nil, &out, http.StatusOK)
	return out.Items, err
}

// waitOnline polls the channel list until every channel in ids is online,
// or timeout passes (errNotOnline, naming one that is not).
func (c *apiClient) waitOnline(ctx context.Context, ids []int64, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	maxPolls := int(timeout/pollInterval) + 1
	var late channel
	for range maxPolls {
		chans, err := c.channels(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		online := 0
		for _, ch := range chans {
			if !want[ch.ID] {
				continue
			}
			if ch.Status == "online" {
				online++
			} else {
				late = ch
			}
		}
		if err == nil && online == len(ids) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w after %s: %d of %d; e.g. %s is %s %s", errNotOnline, timeout, online, len(ids), late.Stream, late.Status, late.LastError)
		case <-time.After(pollInterval):
		}
	}
	return fmt.Errorf("%w after %d polls", errNotOnline, maxPolls)
}

// playURL returns the absolute URL of a play path with the token as a
// query parameter, as a player that cannot send headers uses it.
func (c *apiClient) playURL(path string) string {
	return c.base + path + "?token=" + url.QueryEscape(c.token)
}
