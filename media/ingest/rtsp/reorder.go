package rtsp

import (
	"time"

	"github.com/nvr/nvr/media/unit"
)

// Bounds of the reorder buffer of a UDP session.
const (
	// reorderMaxDelay is the most a unit waits, in stream time, for the
	// other tracks to catch up with its DTS. With UDP, gortsplib reads each
	// medium on its own goroutine, so on a busy machine the audio of a
	// moment can reach the session tens of milliseconds before the video
	// of that moment (docs/performance.md measured steps of up to 485 ms on
	// a saturated machine); order is restored for skews up to this bound.
	reorderMaxDelay = 100 * time.Millisecond
	// reorderMaxUnits bounds the units held whatever their timestamps say:
	// 100 ms of 30 fps video with 50 Hz audio is 8 units.
	reorderMaxUnits = 32
)

// reorder releases the units of a session's tracks in DTS order across
// tracks. Each track's units arrive in their own order (a queue per track
// keeps it), so a unit can go once every other live track has delivered a
// unit at or after its DTS: nothing earlier can come from that track any
// more. A track is live while its newest DTS is within maxDelay of the
// newest DTS of the session (a track that has not delivered yet counts as
// being at the session's first DTS). Hence the bounds:
//   - a unit waits until the session's newest DTS is at most maxDelay past
//     it: by then every track is past it or no longer live;
//   - a track that never delivers, or falls silent (a camera that stops
//     sending audio in silence), holds the others for maxDelay, then not;
//   - at most maxUnits are held, whatever the timestamps say.
//
// A unit of a track that lagged further than maxDelay comes out after later
// units of other tracks, as it would without the buffer (the FLV muxer then
// raises its timestamp); late counts those. Time is stream time: the buffer
// moves when units arrive, and flush releases what is left when the
// session ends. It is not safe for concurrent use; the session calls it
// under its lock.
type reorder struct {
	maxDelay time.Duration
	maxUnits int
	out      func(*unit.Unit)

	queues [][]*unit.Unit  // per track, in arrival order
	last   []time.Duration // DTS of each track's newest unit
	newest time.Duration   // the newest DTS of any track
	any    bool            // a unit was pushed: last and newest are set
	held   int             // units in the queues
	late   uint64          // units released after a unit with a later DTS
	top    time.Duration   // the highest DTS released
	gone   bool            // a unit was released
}

// newReorder returns a reorder buffer for tracks 0 … tracks-1 that releases
// units to out.
func newReorder(tracks int, out func(*unit.Unit)) *reorder {
	return &reorder{
		maxDelay: reorderMaxDelay,
		maxUnits: reorderMaxUnits,
		out:      out,
		queues:   make([][]*unit.Unit, tracks),
		last:     make([]time.Duration, tracks),
	}
}

// push adds u and releases every unit that is ready.
func (r *reorder) push(u *unit.Unit) {
	i := u.Track
	if i < 0 || i >= len(r.queues) {
		r.release(u) // not a track of the session: nothing to order it with
		return
	}
	if !r.any {
		// The other tracks start just before the first unit: they hold it
		// and what follows until they deliver or maxDelay has passed.
		for j := range r.last {
			r.last[j] = u.DTS - 1
		}
		r.newest, r.any = u.DTS, true
	}
	r.queues[i] = append(r.queues[i], u)
	r.held++
	r.last[i] = u.DTS
	r.newest = max(r.newest, u.DTS)
	for {
		i := r.oldest()
		if i < 0 || !r.ready(i) {
			return
		}
		r.pop(i)
	}
}

// flush releases every unit held, in DTS order.
func (r *reorder) flush() {
	for i := r.oldest(); i >= 0; i = r.oldest() {
		r.pop(i)
	}
}

// oldest returns the track whose first queued unit has the lowest DTS, or
// -1 when nothing is held. Ties go to the lower track (video first).
func (r *reorder) oldest() int {
	best := -1
	for i, q := range r.queues {
		if len(q) > 0 && (best < 0 || q[0].DTS < r.queues[best][0].DTS) {
			best = i
		}
	}
	return best
}

// ready reports whether the first unit of track i may go.
func (r *reorder) ready(i int) bool {
	if r.held > r.maxUnits {
		return true
	}
	dts := r.queues[i][0].DTS
	for j, last := range r.last {
		if j != i && last < dts && last > r.newest-r.maxDelay {
			return false // track j is live and may still deliver something earlier
		}
	}
	return true
}

func (r *reorder) pop(i int) {
	q := r.queues[i]
	u := q[0]
	copy(q, q[1:])
	q[len(q)-1] = nil
	r.queues[i] = q[:len(q)-1]
	r.held--
	r.release(u)
}

func (r *reorder) release(u *unit.Unit) {
	if r.gone && u.DTS < r.top {
		r.late++
	}
	if !r.gone || u.DTS > r.top {
		r.top, r.gone = u.DTS, true
	}
	r.out(u)
}
