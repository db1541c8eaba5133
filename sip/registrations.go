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
	m  map[string]RegisterInfo
}

// put stores info and reports whether the device was registered already
// (and not expired at now).
func (r *registrations) put(info RegisterInfo, now time.Time) (refresh bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.m[info.DeviceID]
	r.m[info.DeviceID] = info
	return ok && old.ExpiresAt.After(now)
}

func (r *registrations) remove(id string) (RegisterInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info, ok := r.m[id]
	delete(r.m, id)
	return info, ok
}

func (r *registrations) get(id string) (RegisterInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info, ok := r.m[id]
	return info, ok
}

// touch records that a registered device was heard from remote over
// transport. A NAT binding may change between REGISTERs (router reboot, TCP
// reconnect); requests must follow it. It reports whether the device is
// registered and whether its address changed.
func (r *registrations) touch(id, remote, transport string) (registered, moved bool, old string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info, ok := r.m[id]
	if !ok {
		return false, false, ""
	}
	if info.RemoteAddr == remote && info.Transport == transport {
		return true, false, ""
	}
	old = info.RemoteAddr
	info.RemoteAddr, info.Transport = remote, transport
	r.m[id] = info
	return true, true, old
}

// expire removes and returns the registrations that expired before now.
func (r *registrations) expire(now time.Time) []RegisterInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RegisterInfo
	for id, info := range r.m {
		if !info.ExpiresAt.After(now) {
			out = append(out, info)
			delete(r.m, id)
		}
	}
	return out
}

func (r *registrations) all() []RegisterInfo {
	r.mu.Lock()
	out := make([]RegisterInfo, 0, len(r.m))
	for _, info := range r.m {
		out = append(out, info)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	return out
}
