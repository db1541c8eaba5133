package gb

import (
	"time"
)

// watchdog marks offline the devices whose keepalives stopped: GB/T 28181-2016 §9.6 counts a
// device as offline after a number of missed keepalives. It looks at the remembered states
// only; the database is written just for the devices that go offline.
func (s *Service) watchdog() {
	defer s.wg.Done()
	limit := time.Duration(s.KeepaliveMisses) * s.KeepaliveInterval
	// A quarter of an interval: a device is marked at most that late.
	t := time.NewTicker(max(s.KeepaliveInterval/4, minWatchdogPeriod))
	defer t.Stop()
	due := func(st devState) bool { return time.Since(st.lastSeen) > limit }
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		var late []string
		s.mu.Lock()
		for id, st := range s.states {
			if st.online && due(*st) {
				late = append(late, id)
			}
		}
		s.mu.Unlock()
		for _, id := range late {
			if s.ctx.Err() != nil {
				return
			}
			s.markOffline(s.ctx, id, "no keepalive for "+limit.String(), due)
		}
	}
}
