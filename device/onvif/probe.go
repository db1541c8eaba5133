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
	// MediaXAddr, Media2XAddr and PTZXAddr are the service addresses, after
	// the NAT rewrite; Media2XAddr and PTZXAddr are empty without the service.
	MediaXAddr  string
	Media2XAddr string
	PTZXAddr    string
	// Media2 reports whether the profiles and their URIs were read through
	// Media2; false when the device has no Media2 service or it failed, and
	// Media (ver10) was used.
	Media2 bool
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
// Profiles come from Media2 when the device lists that service, so that an
// H.265 stream is seen with its codec (Media cannot name it); when Media2
// answers with a fault, a reply we cannot use, or no profile, they come
// from Media (ver10). Both services normally list the same profiles under
// the same tokens, Media2 adding those Media cannot describe, so a profile
// keeps its token whichever service it was read through.
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
	profiles, media2, err := c.describeProfiles(ctx, ep)
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
		Media2XAddr:  ep.Media2,
		PTZXAddr:     ep.PTZ,
		Media2:       media2,
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
			uri, err := c.describeURI(ctx, p.Token, media2, c.GetStreamURI2, c.GetStreamURI)
			if err := fatal(err); err != nil {
				return nil, err
			}
			if err != nil {
				c.log.Warn("no stream URI for profile", "profile", p.Token, "error", err)
			} else {
				pd.StreamURI = c.mediaURI(uri, rewriteMediaURI)
			}
			uri, err = c.describeURI(ctx, p.Token, media2, c.GetSnapshotURI2, c.GetSnapshotURI)
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

// describeProfiles reads the profiles through Media2 when the device lists
// it, and through Media (ver10) otherwise or when Media2 cannot be used;
// media2 reports which.
func (c *Client) describeProfiles(ctx context.Context, ep Endpoints) (ps []Profile, media2 bool, err error) {
	if ep.Media2 != "" {
		ps, err := c.GetProfiles2(ctx)
		switch {
		case err == nil && hasVideo(ps):
			return ps, true, nil
		case err == nil:
			c.log.Info("Media2 lists no video profile; using Media", "profiles", len(ps))
		case media2Unusable(err):
			c.log.Info("Media2 failed; using Media", "error", err)
		default:
			return nil, false, err
		}
	}
	ps, err = c.GetProfiles(ctx)
	return ps, false, err
}

// media2Unusable reports whether a failed Media2 request is worth repeating
// through Media (ver10): the device refused it (a fault, such as
// ActionNotSupported, or an account without the right), answered what we
// cannot read, or does not serve the address (an HTML 404). A timeout or a
// broken connection would only fail again.
func media2Unusable(err error) bool {
	_, fault := errors.AsType[*FaultError](err)
	return fault || errors.Is(err, ErrBadResponse) || errors.Is(err, ErrNotONVIF) || errors.Is(err, ErrUnauthorized)
}

func hasVideo(ps []Profile) bool {
	for _, p := range ps {
		if p.Video != nil {
			return true
		}
	}
	return false
}

// describeURI asks for a profile's URI with get2 (Media2) when the profiles
// came from Media2, and with get (Media) otherwise or when Media2 refused:
// some firmware lists its profiles through Media2 but hands out URIs only
// through Media. When both fail, the Media2 error is returned unless it
// would end the probe while Media's would not.
func (c *Client) describeURI(ctx context.Context, token string, media2 bool, get2, get func(context.Context, string) (string, error)) (string, error) {
	if !media2 {
		return get(ctx, token)
	}
	uri, err := get2(ctx, token)
	if err == nil || !media2Unusable(err) {
		return uri, err
	}
	uri, err1 := get(ctx, token)
	switch {
	case err1 == nil:
		c.log.Debug("URI from Media after Media2 refused it", "profile", token, "error", err)
		return uri, nil
	case fatal(err1) != nil || fatal(err) != nil:
		// The device is gone or refuses us through Media too; or Media2's
		// error (an HTML 404, a refused account) would end the probe
		// although Media answered.
		return "", err1
	default:
		return "", err // Media2's reason is the one that counts
	}
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
