package main

import "math"

// A step of more than gapFactor frame intervals between two consecutive
// video frames looks like missing frames: 1.5 tolerates the millisecond
// rounding of FLV timestamps and camera clock jitter, and still catches a
// single lost frame.
const gapFactor = 1.5

// gapDetector checks the decoding timestamps (FLV, milliseconds) of
// consecutive video frames of one viewer.
//
// It judges them two ways. Step by step, a step longer than gapFactor
// intervals counts as a gap that skipped frames. Over the whole run, the
// frames received are compared with the frame slots the timestamps span.
// The two differ when a timestamp is late but the frame is there: an FLV
// muxer raises a video timestamp that would go backwards behind an audio
// tag, which makes a long step followed by a short one. Step-wise that is a
// gap; on the timeline nothing is missing.
type gapDetector struct {
	interval float64 // expected step, ms

	last    uint32
	started bool
	span    int64 // last - first timestamp, ms

	// Frames counts the frames seen.
	Frames uint64
	// Skipped counts the frames that the long steps would have skipped,
	// taken at face value: a step of 3 intervals skips 2.
	Skipped uint64
	// Gaps counts steps longer than gapFactor intervals.
	Gaps uint64
	// NotRising counts steps that did not move forward.
	NotRising uint64
	// MaxStep is the longest step seen, ms.
	MaxStep int64
}

// newGapDetector returns a detector for a stream of fps frames per second.
func newGapDetector(fps float64) *gapDetector {
	return &gapDetector{interval: 1000 / fps}
}

// add records the timestamp of the next frame. Timestamps compare in serial
// number arithmetic (RFC 1982), as FLV's 32 bits wrap after 49.7 days.
func (g *gapDetector) add(ts uint32) {
	g.Frames++
	if !g.started {
		g.started, g.last = true, ts
		return
	}
	step := int64(int32(ts - g.last))
	g.last = ts
	g.span += step
	g.MaxStep = max(g.MaxStep, step)
	switch {
	case step <= 0:
		g.NotRising++
	case float64(step) > gapFactor*g.interval:
		g.Gaps++
		g.Skipped += uint64(math.Round(float64(step)/g.interval)) - 1
	}
}

// Missing returns how many frame slots between the first and the last
// timestamp received no frame. It assumes the source keeps its nominal
// frame rate, which the simulated cameras do exactly.
func (g *gapDetector) Missing() uint64 {
	if g.Frames == 0 {
		return 0
	}
	slots := int64(math.Round(float64(g.span)/g.interval)) + 1
	return uint64(max(slots-int64(g.Frames), 0))
}
