package onvif

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"time"
)

// Stream roles of a profile within its video source.
const (
	// RoleMain is the highest resolution profile of a video source.
	RoleMain = "main"
	// RoleSub is the second highest.
	RoleSub = "sub"
	// RoleOther is any further profile, and a profile without video.
	RoleOther = "other"
)

// DeviceDescription is what onboarding a camera needs to know.
type DeviceDescription struct {
	// XAddr is the device service URL.
	XAddr        string
	Manufacturer string
	Model        string
	Firmware     string
	Serial       string
	HardwareID   string
	// ClockOffset is the device clock minus the host clock.
	ClockOffset time.Duration
	// MediaXAddr and PTZXAddr are the service addresses used, after the NAT
	// rewrite; PTZXAddr is empty without a PTZ service.
	MediaXAddr string
	PTZXAddr   string
	// Profiles are in the device's order.
	Profiles []ProfileDescription
}

// ProfileDescription is one media profile, ready to become a channel.
type ProfileDescription struct {
	Token string
	Name  string
	// VideoSource is the video source token: profiles with the same one are
	// streams of the same picture (an NVR has one source per camera).
	VideoSource string
	// Role is RoleMain, RoleSub or RoleOther by resolution within the video source.
	Role string
	// Codec is one of the Codec constants; empty without a video encoder.
	Codec         string
	Width, Height int
	FPS           int
	BitrateKbps   int
	// AudioCodec is the audio encoder's codec; empty without audio.
	AudioCodec string
	// StreamURI is the RTSP URI without credentials, with a private host the
	// device reports replaced by the host we reach it at (NAT); empty when
	// the device refused GetStreamUri for this profile.
	StreamURI string
	// SnapshotURI is the JPEG snapshot URI without credentials, with a
	// private host:port replaced by the one we reach the device service at;
	// empty when the device has none.
	SnapshotURI string
	// PTZ reports whether PTZ control works with this profile's token.
	PTZ bool
}

// Probe reads everything onboarding a camera needs: its clock (so that
// authentication works with a camera whose clock is off), identity, service
// addresses and every media profile with its stream and snapshot URIs.
//
// address is a host, host:port or device service URL (see ParseAddress).
// Errors match ErrUnauthorized, ErrNotONVIF, ErrTimeout, ErrBadResponse or
// are a *FaultError. A profile whose GetStreamUri or GetSnapshotUri faults
// is kept with the URI empty: some devices list profiles they cannot stream.
func Probe(ctx context.Context, address, username, password string, opts ...Option) (*DeviceDescription, error) {
	c, err := NewClient(address, append([]Option{WithCredentials(username, password)}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Describe(ctx)
}

// Describe is Probe with an existing client.
func (c *Client) Describe(ctx context.Context) (*DeviceDescription, error) {
	off, err := c.SyncClock(ctx)
	if err != nil {
		return nil, err
	}
	info, err := c.GetDeviceInformation(ctx)
	if err != nil {
		return nil, err
	}
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	profiles, err := c.GetProfiles(ctx)
	if err != nil {
		return nil, err
	}
	d := &DeviceDescription{
		XAddr:        c.XAddr(),
		Manufacturer: info.Manufacturer,
		Model:        info.Model,
		Firmware:     info.FirmwareVersion,
		Serial:       info.SerialNumber,
		HardwareID:   info.HardwareID,
		ClockOffset:  off,
		MediaXAddr:   ep.Media,
		PTZXAddr:     ep.PTZ,
	}
	for _, p := range profiles {
		pd := ProfileDescription{
			Token:       p.Token,
			Name:        p.Name,
			VideoSource: p.VideoSourceToken,
			PTZ:         p.PTZ && ep.PTZ != "",
		}
		if p.Video != nil {
			pd.Codec, pd.Width, pd.Height = p.Video.Codec, p.Video.Width, p.Video.Height
			pd.FPS, pd.BitrateKbps = p.Video.FPS, p.Video.BitrateKbps
		}
		if p.Audio != nil {
			pd.AudioCodec = p.Audio.Codec
		}
		if p.Video != nil {
			uri, err := c.GetStreamURI(ctx, p.Token)
			if err := fatal(err); err != nil {
				return nil, err
			}
			if err != nil {
				c.log.Warn("no stream URI for profile", "profile", p.Token, "error", err)
			} else {
				pd.StreamURI = c.mediaURI(uri, rewriteMediaURI)
			}
			uri, err = c.GetSnapshotURI(ctx, p.Token)
			if err := fatal(err); err != nil {
				return nil, err
			}
			if err != nil {
				c.log.Debug("no snapshot URI for profile", "profile", p.Token, "error", err)
			} else {
				// Snapshots come from the same web server as the services.
				pd.SnapshotURI = c.mediaURI(uri, rewriteXAddr)
			}
		}
		d.Profiles = append(d.Profiles, pd)
	}
	assignRoles(d.Profiles)
	return d, nil
}

// fatal returns err when it should end the whole probe: the device went
// away or refuses us, rather than refusing one profile.
func fatal(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrTimeout) ||
		errors.Is(err, context.Canceled) || errors.Is(err, ErrNotONVIF) {
		return err
	}
	if _, ok := errors.AsType[*FaultError](err); ok {
		return nil
	}
	if errors.Is(err, ErrBadResponse) {
		return nil
	}
	return err // a network error
}

// mediaURI removes credentials and applies a NAT rule to a stream or
// snapshot URI.
func (c *Client) mediaURI(raw string, rewrite func(string, *url.URL) (string, bool)) string {
	u, rewritten := rewrite(stripUserinfo(raw), c.xaddr)
	if rewritten {
		c.log.Info("media URI rewritten to the host we reach the device at", "uri", stripUserinfo(raw), "to", u)
	}
	return u
}

// assignRoles marks, within each video source, the largest profile main and
// the next sub. Ties keep the device's order.
func assignRoles(ps []ProfileDescription) {
	bySource := map[string][]int{}
	for i := range ps {
		ps[i].Role = RoleOther
		if ps[i].Width > 0 && ps[i].Height > 0 {
			bySource[ps[i].VideoSource] = append(bySource[ps[i].VideoSource], i)
		}
	}
	for _, idx := range bySource {
		sort.SliceStable(idx, func(a, b int) bool {
			pa, pb := ps[idx[a]], ps[idx[b]]
			return pa.Width*pa.Height > pb.Width*pb.Height
		})
		ps[idx[0]].Role = RoleMain
		if len(idx) > 1 {
			ps[idx[1]].Role = RoleSub
		}
	}
}
