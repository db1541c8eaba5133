package sip

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// dialogTable holds the media sessions: the INVITEs in flight (pending),
// the established dialogs by Call-ID, and the SSRCs they use.
type dialogTable struct {
	mu      sync.Mutex
	pending map[*Dialog]struct{}
	active  map[string]*Dialog // by Call-ID
	ssrcs   map[string]int     // SSRC → dialogs (pending or active) using it
	seq     int                // the last SSRC sequence number given out; -1 before the first
	closed  bool
}

func (t *dialogTable) init() {
	if t.active == nil {
		t.pending = map[*Dialog]struct{}{}
		t.active = map[string]*Dialog{}
		t.ssrcs = map[string]int{}
		// Start from the clock, so that a restarted platform does not
		// hand out the SSRCs of streams that may still be arriving.
		t.seq = int(time.Now().UnixNano()/int64(time.Millisecond)) % ssrcSeqs
	}
}

// reserve records an INVITE about to be sent. It returns false once the
// table is closed.
func (t *dialogTable) reserve(d *Dialog) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	if t.closed {
		return false
	}
	t.pending[d] = struct{}{}
	t.ssrcs[d.req.SSRC]++
	return true
}

// activate makes an answered dialog findable. It returns false once the
// table is closed (the dialog stays pending: the caller BYEs it).
func (t *dialogTable) activate(d *Dialog) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	delete(t.pending, d)
	t.active[d.ids.callID] = d
	if a := d.answer.SSRC; a != "" && a != d.req.SSRC {
		t.ssrcs[a]++
	}
	return true
}

// remove forgets a dialog, pending or active. Removing it twice does
// nothing.
func (t *dialogTable) remove(d *Dialog) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	_, pending := t.pending[d]
	active := t.active[d.ids.callID] == d
	if !pending && !active {
		return
	}
	delete(t.pending, d)
	if active {
		delete(t.active, d.ids.callID)
		if a := d.answer.SSRC; a != "" && a != d.req.SSRC {
			t.release(a)
		}
	}
	t.release(d.req.SSRC)
}

func (t *dialogTable) release(ssrc string) {
	if t.ssrcs[ssrc] <= 1 {
		delete(t.ssrcs, ssrc)
	} else {
		t.ssrcs[ssrc]--
	}
}

func (t *dialogTable) get(callID string) *Dialog {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.active[callID]
}

func (t *dialogTable) byDevice(deviceID string) []*Dialog {
	t.mu.Lock()
	var out []*Dialog
	for _, d := range t.active {
		if d.req.DeviceID == deviceID {
			out = append(out, d)
		}
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].answeredAt.Before(out[j].answeredAt) })
	return out
}

// close marks the table closed and returns the active dialogs.
func (t *dialogTable) close() []*Dialog {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	t.closed = true
	out := make([]*Dialog, 0, len(t.active))
	for _, d := range t.active {
		out = append(out, d)
	}
	return out
}

// track adds a goroutine to wg unless the table is closed: Close closes
// the table before it waits for wg, so no Add comes after the Wait.
func (t *dialogTable) track(wg *sync.WaitGroup) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	wg.Add(1)
	return true
}

// ssrcSeqs is the number of sequence numbers of the SSRC's last 4 digits.
const ssrcSeqs = 10000

// newSSRC returns prefix followed by the next 4-digit sequence number
// that no dialog uses. With all 10,000 in use (never in practice) it
// returns the next one anyway.
func (t *dialogTable) newSSRC(prefix string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.init()
	var ssrc string
	for range ssrcSeqs {
		t.seq = (t.seq + 1) % ssrcSeqs
		ssrc = fmt.Sprintf("%s%04d", prefix, t.seq)
		if t.ssrcs[ssrc] == 0 {
			break
		}
	}
	return ssrc
}

// NewSSRC returns an SSRC for an INVITE's y= line (GB/T 28181-2016 Annex
// F): ten digits, the first 0 for live and 1 for history (playback,
// download), then digits 4 to 8 of the platform's domain, then a rolling
// 4-digit sequence number that no active call or INVITE in flight uses.
// Invite calls it when the request names no SSRC.
func (s *Server) NewSSRC(history bool) string {
	prefix := "0"
	if history {
		prefix = "1"
	}
	return s.dialogs.newSSRC(prefix + domainDigits(s.Domain))
}

// domainDigits returns digits 4 to 8 of a 10-digit domain, "00000" for
// a domain that has none.
func domainDigits(domain string) string {
	if len(domain) < 8 || strings.IndexFunc(domain[3:8], func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return "00000"
	}
	return domain[3:8]
}

// Dialog returns the active media session with this Call-ID, nil if there
// is none: a MediaStatus MESSAGE sent in the dialog carries it.
func (s *Server) Dialog(callID string) *Dialog { return s.dialogs.get(callID) }

// Dialogs returns the device's active media sessions, oldest first: for a
// MediaStatus MESSAGE some devices send outside the dialog, with a Call-ID
// of its own.
func (s *Server) Dialogs(deviceID string) []*Dialog { return s.dialogs.byDevice(deviceID) }

// closeDialogs ends every active dialog with a BYE, in parallel, each
// bounded by dialogByeTimeout, and refuses new ones. Close calls it first.
func (s *Server) closeDialogs() {
	dlgs := s.dialogs.close()
	if len(dlgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialogByeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range dlgs {
		wg.Go(func() { _ = d.Bye(ctx) })
	}
	wg.Wait()
	s.log.Info("media sessions ended on close", "count", len(dlgs))
}
