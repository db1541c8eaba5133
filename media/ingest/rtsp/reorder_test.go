package rtsp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/media/unit"
)

// ms is a DTS in milliseconds.
func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

// names writes units as V40 (track 0) or A23 (track 1), DTS in ms.
func names(units []*unit.Unit) string {
	s := make([]string, len(units))
	for i, u := range units {
		s[i] = fmt.Sprintf("%c%d", "VA"[u.Track], u.DTS/time.Millisecond)
	}
	return strings.Join(s, " ")
}

// parseUnit is the inverse of names for one unit.
func parseUnit(t *testing.T, s string) *unit.Unit {
	t.Helper()
	var dts int
	if _, err := fmt.Sscanf(s[1:], "%d", &dts); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return &unit.Unit{Track: strings.IndexByte("VA", s[0]), DTS: ms(dts), PTS: ms(dts)}
}

// TestReorder pushes units one by one and checks what each push releases.
func TestReorder(t *testing.T) {
	type step struct {
		push, out string // out: what the push releases; push "-" flushes
	}
	cases := []struct {
		name  string
		steps []step
		late  uint64 // units that came out after a later one
	}{
		{"held until the other track passes its DTS", []step{
			{"V0", ""}, // the audio may still bring something at 0
			{"A10", "V0"},
			{"A33", ""}, // the video may still bring something before 33
			{"V40", "A10 A33"},
			{"V80", ""},
			{"A56", "V40 A56"},
			{"-", "V80"},
		}, 0},
		{"late video put back in order", []step{
			{"V0", ""},
			{"A23", "V0"},
			{"A46", ""},
			{"A69", ""},
			{"V40", "A23 V40"}, // the video goroutine ran late
			{"V80", "A46 A69"},
			{"-", "V80"},
		}, 0},
		{"equal timestamps: video first", []step{
			{"A0", ""},
			{"V40", "A0"},
			{"A40", "V40 A40"},
		}, 0},
		{"a track that never delivers holds the others maxDelay", []step{
			{"V0", ""},
			{"V40", ""},
			{"V80", ""},
			{"V120", "V0 V40 V80 V120"},
			{"V160", "V160"},
		}, 0},
		{"a track that falls silent holds the others maxDelay", []step{
			{"V0", ""},
			{"A10", "V0"},
			{"V40", "A10"},
			{"V80", ""},
			{"V120", "V40 V80 V120"}, // 110 ms without audio
			{"V160", "V160"},
			{"A170", ""}, // it is back
			{"V200", "A170"},
		}, 0},
		{"a track that lags more than maxDelay", []step{
			{"V0", ""},
			{"A5", "V0"},
			{"V4", "V4"}, // the video lags behind the audio
			{"A51", ""},
			{"A97", ""},
			{"A104", "A5 A51 A97 A104"}, // the video is 100 ms behind: not live
			{"V8", "V8"},                // too late to be put in order
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out []*unit.Unit
			r := newReorder(2, func(u *unit.Unit) { out = append(out, u) })
			for i, st := range c.steps {
				out = out[:0]
				if st.push == "-" {
					r.flush()
				} else {
					r.push(parseUnit(t, st.push))
				}
				if got := names(out); got != st.out {
					t.Fatalf("step %d (%s): released %q, want %q", i, st.push, got, st.out)
				}
			}
			if r.late != c.late {
				t.Errorf("%d late units, want %d", r.late, c.late)
			}
		})
	}
}

// TestReorderMaxUnits checks that no more than maxUnits are held whatever
// the timestamps say.
func TestReorderMaxUnits(t *testing.T) {
	n := 0
	r := newReorder(2, func(*unit.Unit) { n++ })
	r.push(&unit.Unit{Track: 0, DTS: 0})
	for i := 1; i <= 100; i++ {
		// Audio 0.1 ms apart behind a video track that is live but stuck.
		r.push(&unit.Unit{Track: 1, DTS: time.Duration(i) * 100 * time.Microsecond})
		if r.held > r.maxUnits {
			t.Fatalf("%d units held", r.held)
		}
	}
	r.flush()
	if n != 101 || r.held != 0 {
		t.Fatalf("%d units out, %d held", n, r.held)
	}
}

// TestReorderTimelines pushes 10 s of 25 fps video and 44.1 kHz AAC, each
// track delayed by its own random lag (in order within the track), as two
// UDP reading goroutines deliver them. Every unit must come out once, each
// track in its own order, the whole in DTS order when the lag is under
// maxDelay/2, and no unit may be held past the first push maxDelay newer.
func TestReorderTimelines(t *testing.T) {
	for _, maxLag := range []time.Duration{0, ms(30), ms(45), ms(300)} {
		t.Run(fmt.Sprintf("lag up to %v", maxLag), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(maxLag)))
			type arrival struct {
				at time.Duration
				u  *unit.Unit
			}
			var arrivals []arrival
			timeline := func(track int, step time.Duration) {
				var at time.Duration
				for dts := time.Duration(0); dts < 10*time.Second; dts += step {
					lag := time.Duration(0)
					if maxLag > 0 {
						lag = time.Duration(rng.Int64N(int64(maxLag)))
					}
					at = max(at, dts+lag) // a goroutine delivers its track in order
					arrivals = append(arrivals, arrival{at, &unit.Unit{Track: track, DTS: dts, PTS: dts}})
				}
			}
			timeline(0, 40*time.Millisecond)
			timeline(1, 1024*time.Second/44100)
			slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.at - b.at) })
			unordered, top := 0, time.Duration(-1)
			for _, a := range arrivals {
				if a.u.DTS < top {
					unordered++
				}
				top = max(top, a.u.DTS)
			}

			var out []*unit.Unit
			var newestBefore time.Duration
			var pushed *unit.Unit
			r := newReorder(2, func(u *unit.Unit) {
				// A unit held before this push was not overdue then (one
				// that arrives overdue goes at once).
				if d := newestBefore - u.DTS; u != pushed && d >= reorderMaxDelay {
					t.Fatalf("%s held %v behind the newest DTS", names([]*unit.Unit{u}), d)
				}
				out = append(out, u)
			})
			for _, a := range arrivals {
				pushed = a.u
				r.push(a.u)
				newestBefore = r.newest
				if r.held > r.maxUnits {
					t.Fatalf("%d units held", r.held)
				}
			}
			r.flush()

			if len(out) != len(arrivals) {
				t.Fatalf("%d units out of %d", len(out), len(arrivals))
			}
			last := map[int]time.Duration{0: -1, 1: -1}
			for i, u := range out {
				if u.DTS <= last[u.Track] {
					t.Fatalf("unit %d: track %d out of its order", i, u.Track)
				}
				last[u.Track] = u.DTS
			}
			sorted := slices.IsSortedFunc(out, func(a, b *unit.Unit) int { return int(a.DTS - b.DTS) })
			if maxLag <= reorderMaxDelay/2 && !sorted {
				t.Errorf("not in DTS order (%d late)", r.late)
			}
			t.Logf("%d units: %d arrived after a later one, %d released after a later one", len(out), unordered, r.late)
		})
	}
}
