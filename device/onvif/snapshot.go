package onvif

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// MaxSnapshotBytes caps a snapshot read into memory: a 4K JPEG at the best
// quality cameras offer is 2 to 3 MB.
const MaxSnapshotBytes = 8 << 20

// ErrNotJPEG is returned by FetchSnapshot when the reply is not a JPEG: the
// wrong content type, or bytes that do not start with a JPEG SOI marker.
var ErrNotJPEG = errors.New("onvif: snapshot is not a JPEG")

// ErrSnapshotTooLarge is returned when a snapshot exceeds MaxSnapshotBytes.
var ErrSnapshotTooLarge = errors.New("onvif: snapshot too large")

// jpegSOI is the start of every JPEG (ITU-T T.81 B.1.1.3: SOI, then a marker).
var jpegSOI = []byte{0xFF, 0xD8, 0xFF}

// FetchSnapshot GETs a snapshot URI and returns the JPEG. It answers an
// HTTP Basic or Digest challenge with username and password (credentials in
// the URI are used when username is empty). WithTimeout and WithTransport
// apply; the default timeout is DefaultTimeout.
func FetchSnapshot(ctx context.Context, uri, username, password string, opts ...Option) ([]byte, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	base := o.base
	if base == nil {
		t := &http.Transport{Proxy: nil, ResponseHeaderTimeout: o.timeout, DisableKeepAlives: true}
		defer t.CloseIdleConnections()
		base = t
	}
	return fetchSnapshot(ctx, base, o.timeout, uri, username, password)
}

// Snapshot fetches a snapshot URI with the client's credentials and transport.
func (c *Client) Snapshot(ctx context.Context, uri string) ([]byte, error) {
	return fetchSnapshot(ctx, c.base, c.hc.Timeout, uri, c.username, c.password)
}

func fetchSnapshot(ctx context.Context, base http.RoundTripper, timeout time.Duration, uri, username, password string) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("onvif snapshot: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("onvif snapshot: %q is not an http(s) URI", uri)
	}
	if u.User != nil {
		if username == "" {
			username = u.User.Username()
			password, _ = u.User.Password()
		}
		// Never let net/http send URI credentials as Basic unasked.
		u.User = nil
	}
	hc := &http.Client{
		Transport: &httpAuth{base: base, username: username, password: password},
		Timeout:   timeout,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("onvif snapshot: %w", err)
	}
	req.Header.Set("Accept", "image/jpeg")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("onvif snapshot: %w", wrapTransportError(err))
	}
	defer drainClose(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("onvif snapshot: %w: HTTP %d", ErrUnauthorized, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("onvif snapshot: HTTP %d", resp.StatusCode)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); ct != "" && (err != nil || !jpegMediaType(mt)) {
		return nil, fmt.Errorf("%w: content type %q", ErrNotJPEG, ct)
	}
	data, err := readLimited(resp.Body, MaxSnapshotBytes)
	if errors.Is(err, ErrBadResponse) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrSnapshotTooLarge, MaxSnapshotBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("onvif snapshot: %w", err)
	}
	if !bytes.HasPrefix(data, jpegSOI) {
		return nil, fmt.Errorf("%w: no SOI marker", ErrNotJPEG)
	}
	return data, nil
}

// jpegMediaType accepts image/jpeg, the misspellings some firmware sends,
// and application/octet-stream (the bytes are checked anyway).
func jpegMediaType(mt string) bool {
	switch mt {
	case "image/jpeg", "image/jpg", "image/pjpeg", "application/octet-stream":
		return true
	}
	return false
}
