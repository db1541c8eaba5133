package main

import "testing"

func TestGapDetector(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fps       float64
		ts        []uint32
		skipped   uint64
		gaps      uint64
		notRising uint64
		maxStep   int64
		missing   uint64
	}{
		{"steady 25 fps", 25, []uint32{0, 40, 80, 120, 160}, 0, 0, 0, 40, 0},
		{"one frame", 25, []uint32{1000}, 0, 0, 0, 0, 0},
		{"jitter within tolerance", 25, []uint32{0, 41, 79, 139, 160}, 0, 0, 0, 60, 0},
		{"one missed", 25, []uint32{0, 40, 120, 160}, 1, 1, 0, 80, 1},
		{"just over 1.5 intervals", 25, []uint32{0, 61}, 1, 1, 0, 61, 1},
		{"three missed in one gap", 25, []uint32{0, 40, 200}, 3, 1, 0, 160, 3},
		{"two gaps", 25, []uint32{0, 80, 120, 200}, 2, 2, 0, 80, 2},
		{"raised timestamp: a gap step-wise, nothing missing", 25, []uint32{0, 40, 110, 120, 160}, 1, 1, 0, 70, 0},
		{"raised twice in a row", 25, []uint32{0, 110, 110, 120, 160}, 2, 1, 1, 110, 0},
		{"raised and a real loss", 25, []uint32{0, 40, 150, 160, 200}, 2, 1, 0, 110, 1},
		{"repeated timestamp", 25, []uint32{0, 40, 40, 80}, 0, 0, 1, 40, 0},
		{"backwards", 25, []uint32{0, 40, 0, 40}, 0, 0, 1, 40, 0},
		{"wrap of 32 bits is forward", 25, []uint32{0xffffffd8, 0, 40}, 0, 0, 0, 40, 0},
		{"30 fps ms rounding", 30, []uint32{0, 33, 67, 100, 133, 167}, 0, 0, 0, 34, 0},
		{"30 fps one missed", 30, []uint32{0, 33, 100}, 1, 1, 0, 67, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGapDetector(tc.fps)
			for _, ts := range tc.ts {
				g.add(ts)
			}
			if g.Frames != uint64(len(tc.ts)) || g.Skipped != tc.skipped || g.Gaps != tc.gaps ||
				g.NotRising != tc.notRising || g.MaxStep != tc.maxStep || g.Missing() != tc.missing {
				t.Errorf("frames %d skipped %d gaps %d not rising %d max step %d missing %d; want %d %d %d %d %d %d",
					g.Frames, g.Skipped, g.Gaps, g.NotRising, g.MaxStep, g.Missing(),
					len(tc.ts), tc.skipped, tc.gaps, tc.notRising, tc.maxStep, tc.missing)
			}
		})
	}
	if got := newGapDetector(25).Missing(); got != 0 {
		t.Errorf("no frames: missing %d", got)
	}
}
