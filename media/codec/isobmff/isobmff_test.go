package isobmff

import (
	"bytes"
	"testing"
	"time"
)

func TestTicks(t *testing.T) {
	cases := []struct {
		d    time.Duration
		rate uint32
		want uint64
	}{
		{0, 90000, 0},
		{-time.Second, 90000, 0},
		{40 * time.Millisecond, 90000, 3600},
		{1024 * time.Second / 44100, 44100, 1024},         // floored ns, rounded back
		{7 * 1024 * time.Second / 44100, 44100, 7 * 1024}, // no drift
		{90 * 24 * time.Hour, 90000, 90 * 24 * 3600 * 90000},
	}
	for _, tc := range cases {
		if got := Ticks(tc.d, tc.rate); got != tc.want {
			t.Errorf("Ticks(%v, %d) = %d, want %d", tc.d, tc.rate, got, tc.want)
		}
	}
}

func TestAVCC(t *testing.T) {
	got := AVCC([][]byte{{0x65, 1, 2}, {}, {0x06}})
	want := []byte{0, 0, 0, 3, 0x65, 1, 2, 0, 0, 0, 1, 0x06}
	if !bytes.Equal(got, want) {
		t.Errorf("AVCC = % x, want % x", got, want)
	}
}
