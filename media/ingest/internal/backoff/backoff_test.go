package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 8 * time.Second}
	prevCeil := time.Duration(0)
	for i := range 20 {
		d := b.Next()
		if d < b.Min || d > b.Max {
			t.Fatalf("attempt %d: %v outside [%v, %v]", i, d, b.Min, b.Max)
		}
		if b.ceil < prevCeil {
			t.Fatalf("ceiling shrank")
		}
		prevCeil = b.ceil
	}
	if b.ceil != b.Max {
		t.Fatalf("ceiling %v, want %v", b.ceil, b.Max)
	}
	b.Reset()
	if d := b.Next(); d > 2*b.Min {
		t.Fatalf("after reset %v", d)
	}
	z := Backoff{Min: time.Millisecond}
	if d := z.Next(); d != time.Millisecond {
		t.Fatalf("Max below Min: %v", d)
	}
}
