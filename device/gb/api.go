package gb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

// maxPasswordLen bounds a device password: digest answers are computed over it, and a device
// configuration page takes at most a few dozen characters.
const maxPasswordLen = 128

// Preset is a PTZ preset of a channel.
type Preset struct {
	ID   int
	Name string
}

// Record is a recording held by a device (GB/T 28181-2016 A.2.6.7).
type Record struct {
	// ChannelGBID is the channel the recording is of.
	ChannelGBID string
	Name        string
	FilePath    string
	Address     string
	Start, End  time.Time
	Secrecy     int
	// Type is time, alarm or manual.
	Type       string
	RecorderID string
	// FileSize is in bytes; 0 when the device does not say.
	FileSize int64
}

// Status is a device's answer to DeviceStatus (A.2.6.6).
type Status struct {
	// Online is ONLINE or OFFLINE, Status OK or ERROR (with Reason), Encode and Record ON or OFF.
	Online, Status, Reason, Encode, Record string
	// DeviceTime is the device's clock; zero when it does not say.
	DeviceTime time.Time
	Alarms     []AlarmStatus
}

// AlarmStatus is the duty status of one alarm input.
type AlarmStatus struct {
	ID string
	// DutyStatus is ONDUTY, OFFDUTY or ALARM.
	DutyStatus string
}

// reachable returns the stored GB device with this ID, or ErrNotGB, or ErrOffline when it is
// not online: a request to it would only wait for sip.query_timeout.
func (s *Service) reachable(ctx context.Context, id int64) (*device.Device, error) {
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Type != device.TypeGB28181 {
		return nil, ErrNotGB
	}
	if !d.Online {
		return nil, fmt.Errorf("%w: %s has not sent a keepalive or REGISTER lately", ErrOffline, d.GBID)
	}
	return d, nil
}

// reachableChannel returns a GB channel, its online device, or an error as reachable does.
func (s *Service) reachableChannel(ctx context.Context, id int64) (*device.Channel, *device.Device, error) {
	ch, err := s.Store.Channel(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if ch.GBID == "" {
		return nil, nil, fmt.Errorf("%w: not a GB28181 channel (ONVIF PTZ comes with ONVIF support)", device.ErrInvalid)
	}
	if ch.Kind != device.KindChannel {
		return nil, nil, fmt.Errorf("%w: %s is a %s node of the catalog, not a video channel", device.ErrInvalid, ch.GBID, ch.Kind)
	}
	d, err := s.reachable(ctx, ch.DeviceID)
	if err != nil {
		return nil, nil, err
	}
	return ch, d, nil
}

// Target returns a GB channel that can be played and its online device: the channel must be a
// video channel (not a node of the catalog tree) of a device that is online.
func (s *Service) Target(ctx context.Context, channelID int64) (*device.Channel, *device.Device, error) {
	return s.reachableChannel(ctx, channelID)
}

// DeviceError turns an error of the SIP side (an INVITE's answer, a timeout, a lost
// connection) into ErrOffline, ErrTimeout or ErrDeviceError, keeping its text.
func (s *Service) DeviceError(err error) error {
	if errors.Is(err, sip.ErrTimeout) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	if errors.Is(err, sip.ErrNotRegistered) {
		return fmt.Errorf("%w: %w", ErrOffline, err)
	}
	return deviceErr(err)
}

// SyncCatalog asks a device for its catalog now and stores it, as after a registration.
func (s *Service) SyncCatalog(ctx context.Context, id int64) (SyncResult, error) {
	d, err := s.reachable(ctx, id)
	if err != nil {
		return SyncResult{}, err
	}
	return s.syncCatalog(ctx, d.GBID)
}

// PTZ sends a PTZ command to a channel. The command completes when the device acknowledged it.
func (s *Service) PTZ(ctx context.Context, channelID int64, r PTZRequest) error {
	cmd, args, err := ParsePTZ(r)
	if err != nil {
		return err
	}
	ch, d, err := s.reachableChannel(ctx, channelID)
	if err != nil {
		return err
	}
	if err := s.Client.PTZ(ctx, d.GBID, ch.GBID, cmd, args); err != nil {
		return deviceErr(err)
	}
	s.log.Debug("ptz", "device_id", d.GBID, "channel_id", ch.GBID, "command", cmd.String())
	return nil
}

// Presets asks a channel for its PTZ presets.
func (s *Service) Presets(ctx context.Context, channelID int64) ([]Preset, error) {
	ch, d, err := s.reachableChannel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	items, err := s.Client.Presets(ctx, d.GBID, ch.GBID)
	if err != nil {
		return nil, deviceErr(err)
	}
	out := make([]Preset, len(items))
	for i, p := range items {
		out[i] = Preset{ID: p.ID, Name: p.Name}
	}
	return out, nil
}

// Records asks a device for the recordings it holds of a channel between start and end.
// channel is the channel's GB ID or its database ID; empty means the device's only video
// channel. complete is false when the answer was cut short by sip.catalog_timeout.
func (s *Service) Records(ctx context.Context, deviceID int64, channel string, start, end time.Time) (recs []Record, complete bool, err error) {
	if start.IsZero() || end.IsZero() || !end.After(start) {
		return nil, false, fmt.Errorf("%w: start and end must be given, end after start", device.ErrInvalid)
	}
	d, err := s.reachable(ctx, deviceID)
	if err != nil {
		return nil, false, err
	}
	chGBID, err := s.recordChannel(ctx, d, strings.TrimSpace(channel))
	if err != nil {
		return nil, false, err
	}
	items, complete, err := s.Client.RecordInfo(ctx, d.GBID, chGBID, start, end)
	if err != nil {
		return nil, false, deviceErr(err)
	}
	out := make([]Record, len(items))
	for i, it := range items {
		ch := it.DeviceID
		if ch == "" {
			ch = chGBID
		}
		out[i] = Record{
			ChannelGBID: ch, Name: it.Name, FilePath: it.FilePath, Address: it.Address,
			Start: it.StartTime, End: it.EndTime, Secrecy: it.Secrecy, Type: it.Type,
			RecorderID: it.RecorderID, FileSize: it.FileSize,
		}
	}
	return out, complete, nil
}

// recordChannel resolves the channel parameter of Records to a GB ID.
func (s *Service) recordChannel(ctx context.Context, d *device.Device, channel string) (string, error) {
	switch {
	case channel == "":
		chans, err := s.Store.Channels(ctx, d.ID)
		if err != nil {
			return "", err
		}
		var video []string
		for _, ch := range chans {
			if ch.Kind == device.KindChannel {
				video = append(video, ch.GBID)
			}
		}
		switch len(video) {
		case 0:
			return d.GBID, nil // an IPC that sent no catalog yet records as itself
		case 1:
			return video[0], nil
		}
		return "", fmt.Errorf("%w: the device has %d channels; name one with channel=", device.ErrInvalid, len(video))
	case sip.CheckDeviceID(channel) == nil:
		if channel == d.GBID {
			return channel, nil
		}
		if _, err := s.Store.ChannelByGBID(ctx, d.ID, channel); err != nil {
			return "", err
		}
		return channel, nil
	}
	n, err := strconv.ParseInt(channel, 10, 64)
	if err != nil || n <= 0 {
		return "", fmt.Errorf("%w: channel must be a channel ID or a 20-digit GB ID", device.ErrInvalid)
	}
	ch, err := s.Store.Channel(ctx, n)
	if err != nil {
		return "", err
	}
	if ch.DeviceID != d.ID || ch.GBID == "" {
		return "", fmt.Errorf("%w: channel %d is not a channel of device %d", device.ErrInvalid, n, d.ID)
	}
	return ch.GBID, nil
}

// Reboot asks a device to restart (TeleBoot). It goes offline when it does.
func (s *Service) Reboot(ctx context.Context, id int64) error {
	d, err := s.reachable(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Client.TeleBoot(ctx, d.GBID); err != nil {
		return deviceErr(err)
	}
	s.log.Info("reboot requested", "device_id", d.GBID)
	return nil
}

// Status asks a device for its status (DeviceStatus).
func (s *Service) Status(ctx context.Context, id int64) (*Status, error) {
	d, err := s.reachable(ctx, id)
	if err != nil {
		return nil, err
	}
	st, err := s.Client.DeviceStatus(ctx, d.GBID)
	if err != nil {
		return nil, deviceErr(err)
	}
	out := &Status{Online: st.Online, Status: st.Status, Reason: st.Reason, Encode: st.Encode,
		Record: st.Record, DeviceTime: st.DeviceTime, Alarms: make([]AlarmStatus, len(st.Alarms))}
	for i, a := range st.Alarms {
		out.Alarms[i] = AlarmStatus{ID: a.DeviceID, DutyStatus: a.DutyStatus}
	}
	return out, nil
}

// BasicConfig is a device's basic configuration (ConfigDownload BasicParam, A.2.6.9).
type BasicConfig struct {
	Name, DeviceID, SIPServerID, SIPServerIP string
	SIPServerPort                            int
	DomainName                               string
	// Expiration is the registration lifetime the device asks for, in seconds.
	Expiration int
	// HeartBeatInterval (seconds) and HeartBeatCount are its keepalive settings.
	HeartBeatInterval, HeartBeatCount int
}

// Config asks a device for its basic configuration.
func (s *Service) Config(ctx context.Context, id int64) (*BasicConfig, error) {
	d, err := s.reachable(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.Client.ConfigDownload(ctx, d.GBID, manscdp.ConfigTypeBasicParam)
	if err != nil {
		return nil, deviceErr(err)
	}
	b := c.BasicParam
	if b == nil {
		return &BasicConfig{}, nil
	}
	return &BasicConfig{Name: b.Name, DeviceID: b.DeviceID, SIPServerID: b.SIPServerID, SIPServerIP: b.SIPServerIP,
		SIPServerPort: b.SIPServerPort, DomainName: b.DomainName, Expiration: b.Expiration,
		HeartBeatInterval: b.HeartBeatInterval, HeartBeatCount: b.HeartBeatCount}, nil
}

// Patch holds the fields of a GB device to change; nil leaves one as it is.
type Patch struct {
	Name *string
	// Password is the device's own digest password; "" means the global sip.password.
	Password *string
	// Charset is GB2312, GB18030 or UTF-8 (GBK is taken as GB18030). It is used for requests
	// to the device at once; what the device sends is still read by its content.
	Charset *string
	// StreamTransport is udp, tcp-passive or tcp-active.
	StreamTransport *string
}

// Update changes a GB device's settings.
func (s *Service) Update(ctx context.Context, id int64, p Patch) (*device.Device, error) {
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Type != device.TypeGB28181 {
		return nil, ErrNotGB
	}
	l := s.lock(d.GBID)
	l.Lock()
	defer l.Unlock()
	// Read again under the lock: a keepalive may have been stored since.
	if d, err = s.Store.Device(ctx, id); err != nil {
		return nil, err
	}
	var cs manscdp.Charset
	if err := applyPatch(d, p, &cs); err != nil {
		return nil, err
	}
	if err := s.Store.UpdateDevice(ctx, d); err != nil {
		return nil, err
	}
	if p.Charset != nil {
		s.Client.SetCharset(d.GBID, cs)
		if st, _ := s.state(ctx, d.GBID); st != nil {
			s.update(st, func(st *devState) { st.charset = d.Charset })
		}
	}
	s.log.Info("device settings changed", "device_id", d.GBID, "name", d.Name, "charset", d.Charset,
		"stream_transport", d.StreamTransport, "own_password", d.Password != "")
	return d, nil
}

// applyPatch validates p and applies it to d; the parsed charset goes to cs.
func applyPatch(d *device.Device, p Patch, cs *manscdp.Charset) error {
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if n == "" {
			return fmt.Errorf("%w: name must not be empty", device.ErrInvalid)
		}
		d.Name = n
	}
	if p.Password != nil {
		if len(*p.Password) > maxPasswordLen {
			return fmt.Errorf("%w: password is longer than %d bytes", device.ErrInvalid, maxPasswordLen)
		}
		d.Password = *p.Password
	}
	if p.Charset != nil {
		c, ok := manscdp.ParseCharset(*p.Charset)
		if !ok {
			return fmt.Errorf("%w: charset %q is not one of GB2312, GB18030, UTF-8", device.ErrInvalid, *p.Charset)
		}
		*cs = c
		d.Charset = c.String()
	}
	if p.StreamTransport != nil {
		switch t := strings.ToLower(strings.TrimSpace(*p.StreamTransport)); t {
		case device.StreamUDP, device.StreamTCPPassive, device.StreamTCPActive:
			d.StreamTransport = t
		default:
			return fmt.Errorf("%w: stream_transport %q is not one of udp, tcp-passive, tcp-active", device.ErrInvalid, *p.StreamTransport)
		}
	}
	return nil
}

// NewDevice describes a GB device added before it registers, so that it can have its own
// password, or be admitted while sip.auto_accept is off.
type NewDevice struct {
	GBID string
	// Name defaults to the GB ID, replaced by the device's own name from its DeviceInfo.
	Name                               string
	Password, Charset, StreamTransport string
}

// Provision adds a GB device that has not registered yet. A GB ID already stored yields
// device.ErrConflict.
func (s *Service) Provision(ctx context.Context, in NewDevice) (*device.Device, error) {
	id := strings.TrimSpace(in.GBID)
	if err := sip.CheckDeviceID(id); err != nil {
		return nil, fmt.Errorf("%w: gb_id %q: %v", device.ErrInvalid, in.GBID, err)
	}
	d := &device.Device{Type: device.TypeGB28181, GBID: id, Name: id}
	p := Patch{Password: &in.Password}
	if n := strings.TrimSpace(in.Name); n != "" {
		p.Name = &n
	}
	if in.Charset != "" {
		p.Charset = &in.Charset
	}
	if in.StreamTransport != "" {
		p.StreamTransport = &in.StreamTransport
	}
	var cs manscdp.Charset
	if err := applyPatch(d, p, &cs); err != nil {
		return nil, err
	}
	l := s.lock(id)
	l.Lock()
	defer l.Unlock()
	if err := s.Store.CreateDevice(ctx, d, nil); err != nil {
		return nil, err
	}
	if p.Charset != nil {
		s.Client.SetCharset(id, cs)
	}
	s.remember(d)
	s.log.Info("device provisioned", "device_id", id, "name", d.Name, "own_password", d.Password != "")
	return d, nil
}
