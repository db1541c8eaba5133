package main

import (
	"cmp"
	"math"
	"slices"
)

// percentile returns the p-th percentile (0 ≤ p ≤ 100) of xs by the
// nearest-rank method: the smallest value that at least p % of the values
// are less than or equal to; p 0 gives the minimum. It needs no
// interpolation, so with 50 samples p99 is the maximum rather than a value
// that was never measured. xs is not modified; an empty xs gives the zero
// value.
func percentile[T cmp.Ordered](xs []T, p float64) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
