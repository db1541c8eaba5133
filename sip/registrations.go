package sip

import (
	"sort"
	"sync"
	"time"
)

// registrations is the in-memory table of registered devices: where to
// reach each one and until when. It is what SendMessage routes by.
type registrations struct {
	mu sync.Mutex
	m  map[string]registration
}

// registration is one entry of the table.
type registration struct {
	RegisterInfo
	// detached marks a TCP registration restored from an earlier run that
	// the device has not used since: its connection ended with that run.
	// Any request from the device clears it (it came over a live
	// connection, which requests then follow).
	detached bool
}

// put stores a registration made by a REGISTER. It reports whether the
// device was registered already (and not expired at now), and whether that
// registration was a restored one.
func (r *registrations) put(info RegisterInfo, now time.Time) (refresh, wasRestored bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]registration{}
	}
	old, ok := r.m[info.DeviceID]
	r.m[info.DeviceID] = registration{RegisterInfo: info}
	refresh = ok && old.ExpiresAt.After(now)
	return refresh, refresh && old.Restored
}

// restore stores a registration restored from an earlier run unless the
// device holds one that has not expired at now, and reports whether it did.
func (r *registrations) restore(info RegisterInfo, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]registration{}
	}
	if old, ok := r.m[info.DeviceID]; ok && old.ExpiresAt.After(now) {
		return false
	}
	r.m[info.DeviceID] = registration{RegisterInfo: info, detached: info.Transport == "TCP"}
	return true
}

func (r *registrations) remove(id string) (RegisterInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.m[id]
	delete(r.m, id)
	return reg.RegisterInfo, ok
}

func (r *registrations) get(id string) (registration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.m[id]
	return reg, ok
}

// touch records that a registered device was heard from remote over
// transport. A NAT binding may change between REGISTERs (router reboot, TCP
// reconnect); requests must follow it. It reports whether the device is
// registered and whether its address changed.
func (r *registrations) touch(id, remote, transport string) (registered, moved bool, old string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.m[id]
	if !ok {
		return false, false, ""
	}
	if reg.RemoteAddr == remote && reg.Transport == transport && !reg.detached {
		return true, false, ""
	}
	moved = reg.RemoteAddr != remote || reg.Transport != transport
	old = reg.RemoteAddr
	reg.RemoteAddr, reg.Transport, reg.detached = remote, transport, false
	r.m[id] = reg
	return true, moved, old
}

// expire removes and returns the registrations that expired before now.
func (r *registrations) expire(now time.Time) []RegisterInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RegisterInfo
	for id, reg := range r.m {
		if !reg.ExpiresAt.After(now) {
			out = append(out, reg.RegisterInfo)
			delete(r.m, id)
		}
	}
	return out
}

func (r *registrations) all() []RegisterInfo {
	r.mu.Lock()
	out := make([]RegisterInfo, 0, len(r.m))
	for _, reg := range r.m {
		out = append(out, reg.RegisterInfo)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	return out
}
