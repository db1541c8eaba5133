package rtsp

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	ceil := 200 * time.Millisecond
	for i := range 10 {
		d := b.next()
		if d < b.min || d > b.max {
			t.Fatalf("attempt %d: delay %v outside [%v, %v]", i, d, b.min, b.max)
		}
		if d < ceil/2 || d > ceil {
			t.Fatalf("attempt %d: delay %v outside [%v, %v]", i, d, ceil/2, ceil)
		}
		ceil = min(2*ceil, b.max)
	}
	b.reset()
	if d := b.next(); d > 200*time.Millisecond {
		t.Fatalf("after reset: delay %v, want at most 200ms", d)
	}
}

func TestBackoffMinEqualsMax(t *testing.T) {
	b := backoff{min: time.Second, max: time.Second}
	for range 5 {
		if d := b.next(); d != time.Second {
			t.Fatalf("delay %v, want 1s", d)
		}
	}
}
