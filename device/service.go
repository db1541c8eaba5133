package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by errors about bad input from a user.
var ErrInvalid = errors.New("invalid")

// MaskedPassword replaces a password wherever the API shows a URL. A URL
// sent back with this password keeps the stored one.
const MaskedPassword = "***"

// Store is what the service needs from the database.
type Store interface {
	CreateDevice(ctx context.Context, d *Device, chans []*Channel) error
	Device(ctx context.Context, id int64) (*Device, error)
	ListDevices(ctx context.Context, opts ListOptions) ([]*Device, int64, error)
	UpdateDevice(ctx context.Context, d *Device) error
	DeleteDevice(ctx context.Context, id int64) error
	Channels(ctx context.Context, deviceID int64) ([]*Channel, error)
	Channel(ctx context.Context, id int64) (*Channel, error)
	UpdateChannel(ctx context.Context, c *Channel) error
}

// Media is what the service needs from the media core: it makes a channel's
// stream playable (on demand, or always on) and withdraws it.
type Media interface {
	SetChannel(ch *Channel)
	RemoveChannel(ch *Channel)
}

// StreamName returns the name of the channel's live stream in the media hub.
func (c *Channel) StreamName() string { return "ch" + strconv.FormatInt(c.ID, 10) }

// Service manages devices and channels and keeps the media hub in step with
// the database.
type Service struct {
	Store  Store
	Media  Media
	Logger *slog.Logger
}

// Start registers every stored channel with the media hub.
func (s *Service) Start(ctx context.Context) error {
	chans, err := s.Store.Channels(ctx, 0)
	if err != nil {
		return err
	}
	for _, ch := range chans {
		s.Media.SetChannel(ch)
	}
	s.Logger.Info("channels registered", "count", len(chans))
	return nil
}

// NewRTSP describes an RTSP camera to add.
type NewRTSP struct {
	Name     string
	URL      string
	AlwaysOn bool
}

// CreateRTSP adds an RTSP camera with its single channel.
func (s *Service) CreateRTSP(ctx context.Context, in NewRTSP) (*Device, []*Channel, error) {
	name := strings.TrimSpace(in.Name)
	if err := ValidateRTSPURL(in.URL); err != nil {
		return nil, nil, err
	}
	if name == "" {
		name = hostOf(in.URL)
	}
	d := &Device{Type: TypeRTSP, Name: name, URL: in.URL}
	ch := &Channel{Name: name, URL: in.URL, AlwaysOn: in.AlwaysOn}
	if err := s.Store.CreateDevice(ctx, d, []*Channel{ch}); err != nil {
		return nil, nil, err
	}
	s.Media.SetChannel(ch)
	s.Logger.Info("device added", "device_id", d.ID, "type", d.Type, "name", d.Name)
	return d, []*Channel{ch}, nil
}

// DevicePatch holds the fields of a device to change; nil leaves one as is.
type DevicePatch struct {
	Name     *string
	URL      *string
	AlwaysOn *bool
}

// UpdateDevice changes a device and, for an RTSP camera, its channel.
func (s *Service) UpdateDevice(ctx context.Context, id int64, p DevicePatch) (*Device, error) {
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if n == "" {
			return nil, fmt.Errorf("%w: name must not be empty", ErrInvalid)
		}
		d.Name = n
	}
	if p.URL != nil {
		if d.Type != TypeRTSP {
			return nil, fmt.Errorf("%w: url can only be changed on rtsp devices", ErrInvalid)
		}
		u := KeepPassword(*p.URL, d.URL)
		if err := ValidateRTSPURL(u); err != nil {
			return nil, err
		}
		d.URL = u
	}
	if err := s.Store.UpdateDevice(ctx, d); err != nil {
		return nil, err
	}
	if d.Type == TypeRTSP && (p.URL != nil || p.AlwaysOn != nil || p.Name != nil) {
		chans, err := s.Store.Channels(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		for _, ch := range chans {
			ch.URL = d.URL
			if p.Name != nil {
				ch.Name = d.Name
			}
			if p.AlwaysOn != nil {
				ch.AlwaysOn = *p.AlwaysOn
			}
			if err := s.Store.UpdateChannel(ctx, ch); err != nil {
				return nil, err
			}
			s.Media.SetChannel(ch)
		}
	}
	return d, nil
}

// DeleteDevice removes a device, its channels and their streams.
func (s *Service) DeleteDevice(ctx context.Context, id int64) error {
	chans, err := s.Store.Channels(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteDevice(ctx, id); err != nil {
		return err
	}
	for _, ch := range chans {
		s.Media.RemoveChannel(ch)
	}
	s.Logger.Info("device deleted", "device_id", id)
	return nil
}

// ChannelPatch holds the fields of a channel to change.
type ChannelPatch struct {
	Name     *string
	AlwaysOn *bool
}

// UpdateChannel changes a channel's name or its on-demand mode.
func (s *Service) UpdateChannel(ctx context.Context, id int64, p ChannelPatch) (*Channel, error) {
	ch, err := s.Store.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if n == "" {
			return nil, fmt.Errorf("%w: name must not be empty", ErrInvalid)
		}
		ch.Name = n
	}
	if p.AlwaysOn != nil {
		ch.AlwaysOn = *p.AlwaysOn
	}
	if err := s.Store.UpdateChannel(ctx, ch); err != nil {
		return nil, err
	}
	s.Media.SetChannel(ch)
	return ch, nil
}

// ValidateRTSPURL checks that raw is an rtsp:// or rtsps:// URL with a host.
func ValidateRTSPURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%w: url: %v", ErrInvalid, err)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return fmt.Errorf("%w: url must start with rtsp:// or rtsps://", ErrInvalid)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: url has no host", ErrInvalid)
	}
	return nil
}

// MaskURL returns raw with its password replaced by MaskedPassword, for the
// API and logs. A URL that does not parse is returned without its userinfo.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + raw[i+1:]
			}
		}
		return raw
	}
	if u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), MaskedPassword)
	}
	return strings.Replace(u.String(), url.QueryEscape(MaskedPassword), MaskedPassword, 1)
}

// KeepPassword returns next, except that a masked password in next is
// replaced by the password of prev, so a client can send back the URL it was
// shown without knowing the password.
func KeepPassword(next, prev string) string {
	n, err := url.Parse(next)
	if err != nil || n.User == nil {
		return next
	}
	if pw, ok := n.User.Password(); !ok || pw != MaskedPassword {
		return next
	}
	p, err := url.Parse(prev)
	if err != nil || p.User == nil {
		n.User = url.User(n.User.Username())
		return n.String()
	}
	old, _ := p.User.Password()
	n.User = url.UserPassword(n.User.Username(), old)
	return n.String()
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "camera"
}
