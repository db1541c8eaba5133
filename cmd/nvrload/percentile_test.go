package main

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	for _, tc := range []struct {
		name string
		xs   []int
		p    float64
		want int
	}{
		{"empty", nil, 50, 0},
		{"one", []int{7}, 99, 7},
		{"min", []int{3, 1, 2}, 0, 1},
		{"max", []int{3, 1, 2}, 100, 3},
		{"median of odd", []int{5, 1, 3}, 50, 3},
		{"median of even is the lower middle", []int{4, 1, 3, 2}, 50, 2},
		{"p50 of 1..100", hundred, 50, 50},
		{"p90 of 1..100", hundred, 90, 90},
		{"p99 of 1..100", hundred, 99, 99},
		{"p99 of 50 samples is the max", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
			26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50}, 99, 50},
		{"p90 of 10", []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			if got := percentile(tc.xs, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %d, want %d", tc.p, got, tc.want)
			}
			if !slices.Equal(in, tc.xs) {
				t.Error("input was modified")
			}
		})
	}
}

func TestPercentileDurations(t *testing.T) {
	ds := []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
	if got := percentile(ds, 50); got != 20*time.Millisecond {
		t.Errorf("p50 = %s, want 20ms", got)
	}
}
