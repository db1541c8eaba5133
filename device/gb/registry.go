package gb

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip"
)

// Password implements sip.Credentials: a stored device is known, with its own password or ""
// for the global one. An unknown device is left to the server, which admits it with the global
// password when it auto-accepts, or when the allow list names it.
func (s *Service) Password(ctx context.Context, gbID string) (string, bool) {
	d, err := s.Store.DeviceByGBID(ctx, gbID)
	if err != nil {
		if !errors.Is(err, device.ErrNotFound) {
			s.log.Error("password lookup failed", "device_id", gbID, "err", err)
		}
		return "", false
	}
	if d.Type != device.TypeGB28181 {
		return "", false
	}
	return d.Password, true
}

// Registered implements sip.Registry: it creates the device on its first registration (named
// by its GB ID until its DeviceInfo tells) or updates it, marks it online, and, when it was not
// registered with this process before, asks it for its DeviceInfo and Catalog in the
// background.
func (s *Service) Registered(ctx context.Context, info sip.RegisterInfo) {
	id := info.DeviceID
	l := s.lock(id)
	l.Lock()
	d, err := s.Store.DeviceByGBID(ctx, id)
	created := false
	if errors.Is(err, device.ErrNotFound) {
		d, err, created = &device.Device{Type: device.TypeGB28181, Name: id, GBID: id}, nil, true
	}
	if err != nil {
		l.Unlock()
		s.log.Error("registration not stored", "device_id", id, "err", err)
		return
	}
	wasOnline := d.Online
	d.Transport = strings.ToLower(info.Transport)
	d.RemoteAddr = info.RemoteAddr
	d.RegisteredAt = info.RegisteredAt
	d.ExpiresAt = info.ExpiresAt
	d.Online = true
	if created {
		err = s.Store.CreateDevice(ctx, d, nil)
	} else {
		err = s.Store.UpdateDevice(ctx, d)
	}
	if err != nil {
		l.Unlock()
		s.storeFailed(id, "store registration", err)
		return
	}
	s.remember(d)
	l.Unlock()

	switch {
	case created:
		s.log.Info("device added", "device_id", id, "remote", info.RemoteAddr, "transport", d.Transport,
			"user_agent", info.UserAgent)
	case !wasOnline:
		s.log.Info("device online", "device_id", id, "via", "register", "remote", info.RemoteAddr)
	}
	if created || !wasOnline || !info.Refresh {
		s.enqueueSync(id)
	}
}

// Unregistered implements sip.Registry: the device goes offline, its catalog subscription
// ends, and its stored registration is cut short so that a keepalive after a platform restart
// does not bring it back.
func (s *Service) Unregistered(ctx context.Context, gbID string, reason sip.UnregisterReason) {
	s.Client.Unsubscribe(gbID)
	l := s.lock(gbID)
	l.Lock()
	defer l.Unlock()
	d, err := s.Store.DeviceByGBID(ctx, gbID)
	if err != nil {
		switch {
		case errors.Is(err, device.ErrNotFound):
		case errors.Is(err, context.Canceled):
			s.log.Debug("unregistration not stored: shutting down", "device_id", gbID)
		default:
			s.log.Error("unregistration not stored", "device_id", gbID, "err", err)
		}
		return
	}
	wasOnline := d.Online
	d.Online = false
	if now := time.Now(); d.ExpiresAt.After(now) {
		d.ExpiresAt = now
	}
	if err := s.Store.UpdateDevice(ctx, d); err != nil {
		s.storeFailed(gbID, "store unregistration", err)
		return
	}
	s.remember(d)
	if wasOnline {
		s.log.Info("device offline", "device_id", gbID, "reason", "registration "+reason.String())
	}
}

// StoredRegistrations implements sip.RegistrationStore: the registrations of the stored GB
// devices that have not expired, so that the SIP server reaches them after a platform restart
// without waiting for their next REGISTER. A device that unregistered, or whose registration
// expired, is left out (Unregistered cuts its ExpiresAt short).
func (s *Service) StoredRegistrations(ctx context.Context) ([]sip.RegisterInfo, error) {
	devs, _, err := s.Store.ListDevices(ctx, device.ListOptions{Type: device.TypeGB28181})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []sip.RegisterInfo
	for _, d := range devs {
		if d.GBID == "" || d.RemoteAddr == "" || d.Transport == "" || !d.ExpiresAt.After(now) {
			continue
		}
		out = append(out, sip.RegisterInfo{DeviceID: d.GBID, RemoteAddr: d.RemoteAddr,
			Transport: strings.ToUpper(d.Transport), RegisteredAt: d.RegisteredAt, ExpiresAt: d.ExpiresAt})
	}
	s.log.Debug("stored registrations handed to the sip server", "devices", len(devs), "unexpired", len(out))
	return out, nil
}

// markOffline marks a device offline when it is online and due still says so (the watchdog's
// check, repeated under the device's lock in case a keepalive just arrived).
func (s *Service) markOffline(ctx context.Context, gbID, why string, due func(devState) bool) {
	l := s.lock(gbID)
	l.Lock()
	defer l.Unlock()
	st, err := s.state(ctx, gbID)
	if err != nil || st == nil {
		return
	}
	snap := s.snapshot(st)
	if !snap.online || !due(snap) {
		return
	}
	if err := s.Store.SetDeviceOnline(ctx, snap.id, false); err != nil {
		s.storeFailed(gbID, "mark offline", err)
		return
	}
	s.update(st, func(st *devState) { st.online = false })
	s.log.Info("device offline", "device_id", gbID, "reason", why, "last_seen", snap.lastSeen.Format(time.RFC3339Nano))
}
