// Package backoff yields the delays between the reconnection attempts of an
// ingest source.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Backoff doubles the delay from Min up to Max, each drawn at random from
// the upper half of its step ("equal jitter"), so that many cameras that
// dropped together (a switch reboot) do not all reconnect in the same
// instant. Every delay lies in [Min, Max]. The zero value must be given Min
// and Max before use.
type Backoff struct {
	Min, Max time.Duration
	ceil     time.Duration // upper bound of the next delay; 0 after Reset
}

// Next returns the delay before the next attempt and grows the following one.
func (b *Backoff) Next() time.Duration {
	hi := max(b.Max, b.Min)
	if b.ceil == 0 {
		b.ceil = min(2*b.Min, hi)
	}
	half := b.ceil / 2
	d := half + rand.N(half+1)
	d = max(b.Min, min(d, hi))
	b.ceil = min(2*b.ceil, hi)
	return d
}

// Reset makes the next delay a short one again.
func (b *Backoff) Reset() { b.ceil = 0 }
