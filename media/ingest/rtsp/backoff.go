package rtsp

import (
	"math/rand/v2"
	"time"
)

// backoff yields the delays between reconnection attempts: doubling from min
// up to max, each drawn at random from the upper half of its step ("equal
// jitter"), so that many cameras that dropped together (a switch reboot) do
// not all reconnect in the same instant. Every delay lies in [min, max].
type backoff struct {
	min, max time.Duration
	ceil     time.Duration // upper bound of the next delay; 0 after reset
}

// next returns the delay before the next attempt and grows the following one.
func (b *backoff) next() time.Duration {
	if b.ceil == 0 {
		b.ceil = min(2*b.min, b.max)
	}
	half := b.ceil / 2
	d := half + rand.N(half+1)
	d = max(b.min, min(d, b.max))
	b.ceil = min(2*b.ceil, b.max)
	return d
}

// reset makes the next delay a short one again.
func (b *backoff) reset() { b.ceil = 0 }
