package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrNoConnection is returned by SendMessage and Subscribe for a device
// whose registration over TCP was restored from an earlier run and which
// has not connected since: its connection ended with that run, and the
// platform does not dial devices' ephemeral ports (behind NAT, a dial would
// hang until its timeout). The device is reachable again once it sends
// anything (a keepalive) over a new connection, or registers.
var ErrNoConnection = errors.New("sip: device's TCP connection ended with the platform's restart; waiting for it to reconnect")

// Restore re-creates the registration of a device that registered with an
// earlier run of the platform, without a REGISTER, so that requests reach
// it and its MESSAGEs count as from a registered device (Message.Registered)
// from the start. It needs info's DeviceID, RemoteAddr ("ip:port"),
// Transport and ExpiresAt; the entry expires at ExpiresAt (capped at
// MaxExpires from now) like any other, and the device's next REGISTER
// replaces it. No Registry event is sent: nothing happened on the wire.
//
// Over TCP the entry starts detached (see ErrNoConnection) until the device
// connects again.
//
// It reports whether it restored the registration: not when the device
// already holds one (its REGISTER came first) or info has expired. Invalid
// fields are an error.
func (s *Server) Restore(info RegisterInfo) (bool, error) {
	if err := CheckDeviceID(info.DeviceID); err != nil {
		return false, fmt.Errorf("restore registration of %q: %w", info.DeviceID, err)
	}
	ap, err := netip.ParseAddrPort(info.RemoteAddr)
	if err != nil {
		return false, fmt.Errorf("restore registration of %s: remote address: %w", info.DeviceID, err)
	}
	info.RemoteAddr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
	info.Transport = transportOf(info.Transport)
	if info.Transport != "UDP" && info.Transport != "TCP" {
		return false, fmt.Errorf("restore registration of %s: transport %q is not UDP or TCP", info.DeviceID, info.Transport)
	}
	now := time.Now()
	if !info.ExpiresAt.After(now) {
		return false, nil
	}
	if s.MaxExpires > 0 && info.ExpiresAt.After(now.Add(s.MaxExpires)) {
		info.ExpiresAt = now.Add(s.MaxExpires)
	}
	if info.Expires <= 0 && !info.RegisteredAt.IsZero() {
		info.Expires = info.ExpiresAt.Sub(info.RegisteredAt)
	}
	info.Restored, info.Refresh, info.Authenticated = true, false, false
	return s.regs.restore(info, now), nil
}

// restoreStored restores the registrations the Registry kept, when it keeps
// them (RegistrationStore). A failure costs only the devices' reachability
// until their next REGISTER, so it is logged, not returned.
func (s *Server) restoreStored() {
	rs, ok := s.Registry.(RegistrationStore)
	if !ok {
		return
	}
	infos, err := rs.StoredRegistrations(s.ctx)
	if err != nil {
		s.log.Warn("stored registrations not restored; devices are reachable again from their next REGISTER", "err", err)
		return
	}
	restored := 0
	for _, info := range infos {
		ok, err := s.Restore(info)
		switch {
		case err != nil:
			s.log.Warn("stored registration not restored", "device_id", info.DeviceID, "err", err)
		case ok:
			restored++
			s.log.Debug("registration restored", "device_id", info.DeviceID, "remote", info.RemoteAddr,
				"transport", info.Transport, "expires_at", info.ExpiresAt)
		}
	}
	if len(infos) > 0 {
		s.log.Info("registrations restored from before the restart", "restored", restored, "stored", len(infos))
	}
}

// route returns the registration a request to a device goes by.
func (s *Server) route(deviceID string) (RegisterInfo, error) {
	reg, ok := s.regs.get(deviceID)
	if !ok {
		return RegisterInfo{}, fmt.Errorf("%w: %s", ErrNotRegistered, deviceID)
	}
	if reg.detached {
		return RegisterInfo{}, fmt.Errorf("%w: %s (was at %s)", ErrNoConnection, deviceID, reg.RemoteAddr)
	}
	return reg.RegisterInfo, nil
}
