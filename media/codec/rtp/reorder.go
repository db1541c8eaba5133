package rtp

import (
	"time"
)

// Defaults for the zero fields of Reorder.
const (
	// DefaultReorderSize holds about 100 ms of a 4 Mbit/s stream in
	// 1400-byte packets: enough for the reordering a Wi-Fi or a bonded
	// uplink causes, small enough to cost little memory per stream.
	DefaultReorderSize = 64
	// DefaultReorderDelay is the longest a packet waits for a missing
	// predecessor. Beyond it the predecessor is declared lost: waiting
	// longer delays every frame of a live view for a packet that rarely
	// comes.
	DefaultReorderDelay = 100 * time.Millisecond
	// maxReorderSize bounds Size: a reorder buffer is not a jitter buffer
	// for seconds of media.
	maxReorderSize = 1024
)

// Sequence number distances from RFC 3550 appendix A.1: a jump forward of
// less than maxDropout is loss; a jump backwards of less than maxMisorder is
// a late packet or a duplicate; anything else is a sender that restarted,
// which is believed once two consecutive packets agree.
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// ReorderStats counts what a Reorder saw.
type ReorderStats struct {
	// Packets is the number of packets pushed.
	Packets uint64
	// Lost is the number of sequence numbers skipped because their packet
	// did not arrive in time. A packet that arrives after it was declared
	// lost is counted in Late too.
	Lost uint64
	// Reordered is the number of packets that arrived after one with a
	// higher sequence number and were still put back in order.
	Reordered uint64
	// Duplicates is the number of packets received twice.
	Duplicates uint64
	// Late is the number of packets dropped because they came after their
	// place was given up, and strays whose sequence number made no sense.
	Late uint64
	// Resets is the number of times the sender restarted its sequence.
	Resets uint64
}

// Reorder puts RTP packets back in sequence-number order. It holds at most
// Size packets, and a packet at most MaxDelay; a missing packet is given up
// when its successors waited that long or when the window is full, and the
// gap is reported to OnLoss before the next packet is released.
//
// A Reorder is used by one goroutine. Set the fields, then call Initialize.
type Reorder struct {
	// Size is the most packets held, rounded up to a power of two
	// (default DefaultReorderSize, at most 1024). Size 1 only detects gaps.
	Size int
	// MaxDelay is the longest a packet waits for a missing predecessor
	// (default DefaultReorderDelay).
	MaxDelay time.Duration
	// OnPacket receives the packets in order. The packet and its payload
	// are valid only during the call.
	OnPacket func(p *Packet)
	// OnLoss is called before OnPacket when n packets are missing before
	// it; n is 0 when the sender restarted and the count is unknown.
	OnLoss func(n int)

	slots    []slot
	mask     uint16
	window   uint16 // len(slots)
	next     uint16 // sequence number expected next
	highest  uint16 // highest sequence number seen
	started  bool
	held     int
	gapSince time.Time // arrival of the oldest held packet
	badSeq   uint16    // RFC 3550 A.1 probation: the next sequence after a stray
	hasBad   bool
	stats    ReorderStats
}

type slotState uint8

const (
	slotEmpty    slotState = iota
	slotHeld               // a packet waits here
	slotReleased           // seq was handed to OnPacket
	slotSkipped            // seq was declared lost
)

type slot struct {
	state slotState
	seq   uint16
	at    time.Time
	pkt   Packet
	buf   []byte // owns pkt.Payload while held
}

// Initialize applies the defaults. It must be called before Push.
func (r *Reorder) Initialize() {
	size := r.Size
	if size <= 0 {
		size = DefaultReorderSize
	}
	size = min(size, maxReorderSize)
	n := 1
	for n < size {
		n <<= 1
	}
	r.Size = n
	if r.MaxDelay <= 0 {
		r.MaxDelay = DefaultReorderDelay
	}
	if r.OnPacket == nil {
		r.OnPacket = func(*Packet) {}
	}
	if r.OnLoss == nil {
		r.OnLoss = func(int) {}
	}
	r.slots = make([]slot, n)
	r.mask = uint16(n - 1)
	r.window = uint16(n)
}

// Stats returns the counters.
func (r *Reorder) Stats() ReorderStats { return r.stats }

// Held returns the number of packets waiting.
func (r *Reorder) Held() int { return r.held }

// Deadline returns when the oldest held packet stops waiting, so that the
// caller can call Poll then; ok is false when nothing is held.
func (r *Reorder) Deadline() (t time.Time, ok bool) {
	if r.held == 0 {
		return time.Time{}, false
	}
	return r.gapSince.Add(r.MaxDelay), true
}

// Push adds a packet received at now. In-order packets are released at
// once without copying; a packet that has to wait is copied, so p and its
// payload may be reused after Push returns.
func (r *Reorder) Push(p *Packet, now time.Time) {
	r.stats.Packets++
	seq := p.SequenceNumber
	if !r.started {
		r.start(seq)
	}
	d := seq - r.next
	switch {
	case d < r.window:
		r.insert(p, now)

	case d < maxDropout:
		// Beyond the window: a burst of loss. What is missing before this
		// packet is given up at once; its successors are what matters now.
		r.hasBad = false
		r.advanceTo(seq)
		r.insert(p, now)

	case d >= -uint16(max(maxMisorder, int(r.window))):
		// Behind: a late packet or a duplicate.
		s := &r.slots[seq&r.mask]
		if s.seq == seq && (s.state == slotReleased || s.state == slotHeld) {
			r.stats.Duplicates++
		} else {
			r.stats.Late++
		}

	default:
		// A jump nobody could lose that many packets for: a stray, or a
		// sender that restarted. Believe the restart when the next packet
		// follows this one (RFC 3550 A.1).
		if r.hasBad && seq == r.badSeq {
			r.stats.Resets++
			r.Reset()
			r.OnLoss(0)
			r.start(seq)
			r.insert(p, now)
			return
		}
		r.stats.Late++
		r.hasBad, r.badSeq = true, seq+1
	}
	r.Poll(now)
}

func (r *Reorder) start(seq uint16) {
	r.started = true
	r.next, r.highest = seq, seq
	r.hasBad = false
}

// insert handles a packet inside the window [next, next+window).
func (r *Reorder) insert(p *Packet, now time.Time) {
	r.hasBad = false
	seq := p.SequenceNumber
	s := &r.slots[seq&r.mask]
	if s.state == slotHeld && s.seq == seq {
		r.stats.Duplicates++
		return
	}
	if int16(seq-r.highest) < 0 {
		r.stats.Reordered++
	} else {
		r.highest = seq
	}
	if seq == r.next && r.held == 0 {
		// The common case: in order, nothing waiting. No copy.
		s.state, s.seq = slotReleased, seq
		r.next++
		r.OnPacket(p)
		return
	}
	s.state, s.seq, s.at = slotHeld, seq, now
	s.buf = append(s.buf[:0], p.Payload...)
	s.pkt = *p
	s.pkt.Payload = s.buf
	if r.held == 0 || now.Before(r.gapSince) {
		r.gapSince = now
	}
	r.held++
	if seq == r.next {
		r.drain()
	}
}

// drain releases the held packets that follow on from next.
func (r *Reorder) drain() {
	for r.held > 0 {
		s := &r.slots[r.next&r.mask]
		if s.state != slotHeld || s.seq != r.next {
			break
		}
		r.release(s)
		r.next++
	}
	r.resetGapSince()
}

func (r *Reorder) release(s *slot) {
	s.state = slotReleased
	r.held--
	r.OnPacket(&s.pkt)
}

// resetGapSince recomputes the arrival of the oldest held packet.
func (r *Reorder) resetGapSince() {
	if r.held == 0 {
		return
	}
	first := true
	for i := uint16(0); i < r.window; i++ {
		s := &r.slots[(r.next+i)&r.mask]
		if s.state == slotHeld && s.seq == r.next+i {
			if first || s.at.Before(r.gapSince) {
				r.gapSince, first = s.at, false
			}
		}
	}
}

// advanceTo moves next to target, releasing what is held on the way and
// reporting each run of missing packets.
func (r *Reorder) advanceTo(target uint16) {
	missing := 0
	for r.next != target {
		s := &r.slots[r.next&r.mask]
		if s.state == slotHeld && s.seq == r.next {
			if missing > 0 {
				r.loss(missing)
				missing = 0
			}
			r.release(s)
		} else {
			s.state, s.seq = slotSkipped, r.next
			missing++
		}
		r.next++
	}
	if missing > 0 {
		r.loss(missing)
	}
	r.drain()
}

func (r *Reorder) loss(n int) {
	r.stats.Lost += uint64(n)
	r.OnLoss(n)
}

// Poll gives up the missing packets whose successors waited MaxDelay by
// now and releases what follows them. Call it at Deadline.
func (r *Reorder) Poll(now time.Time) {
	for r.held > 0 && !now.Before(r.gapSince.Add(r.MaxDelay)) {
		r.skipGap()
	}
}

// skipGap gives up the missing packets before the first held one.
func (r *Reorder) skipGap() {
	i := uint16(1)
	for ; i < r.window; i++ {
		s := &r.slots[(r.next+i)&r.mask]
		if s.state == slotHeld && s.seq == r.next+i {
			break
		}
	}
	r.advanceTo(r.next + i)
}

// Flush releases every held packet in order, reporting the gaps between
// them, as if they had all waited long enough.
func (r *Reorder) Flush() {
	for r.held > 0 {
		r.skipGap()
	}
}

// Reset flushes the held packets and forgets the sequence: the next packet
// starts a new one. Call it when the sender changed (a new SSRC).
func (r *Reorder) Reset() {
	r.Flush()
	r.started = false
	r.hasBad = false
	for i := range r.slots {
		r.slots[i].state = slotEmpty
	}
}
