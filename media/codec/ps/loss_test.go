package ps

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// rtpPayload is the PS bytes of one RTP packet, as devices cut them.
const rtpPayload = 1400

// muxWithOffsets muxes the events and returns where each one's bytes start.
func muxWithOffsets(m *Muxer, events []event) (stream []byte, starts []int) {
	for _, e := range events {
		starts = append(starts, len(stream))
		if e.video {
			stream = m.WriteVideo(stream, e.codec, e.pts, e.dts, e.key, e.data)
		} else {
			stream = m.WriteAudio(stream, e.codec, e.pts, e.data)
		}
	}
	return stream, starts
}

type frameKey struct {
	video bool
	pts   int64
}

// TestLoss drops random RTP-sized chunks and says so with Lost: the frames
// the losses touch are dropped, every frame given out is intact, and every
// frame the losses did not touch is given out.
func TestLoss(t *testing.T) {
	for _, c := range muxCases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.n = 400
			spec.bframes = true // unique PTS for every frame
			events := buildProgram(t, spec)
			m := c.muxer
			stream, starts := muxWithOffsets(&m, events)
			for seed := range uint64(3) {
				testLoss(t, c, events, stream, starts, seed)
			}
		})
	}
}

func testLoss(t *testing.T, c muxCase, events []event, stream []byte, starts []int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var lost [][2]int // byte ranges dropped
	col := &collector{}
	d := col.demuxer()
	gap := false
	for off := 0; off < len(stream); off += rtpPayload {
		end := min(off+rtpPayload, len(stream))
		if rng.IntN(100) < 3 || gap && rng.IntN(3) == 0 {
			lost = append(lost, [2]int{off, end})
			gap = true
			continue
		}
		if gap {
			d.Lost()
			gap = false
		}
		d.Write(stream[off:end])
	}
	d.Flush()

	// A frame is at risk when a lost range meets its bytes; a video frame
	// also when one meets the bytes up to the next video frame's PES
	// header, since it is only complete once that is read.
	want := map[frameKey]event{}
	atRisk := map[frameKey]bool{}
	for i, e := range events {
		k := frameKey{e.video, e.pts}
		want[k] = e
		from, to := starts[i], len(stream)
		if i+1 < len(events) {
			to = starts[i+1]
		}
		if e.video {
			for j := i + 1; j < len(events); j++ {
				if events[j].video {
					to = starts[j] + 200
					break
				}
			}
		}
		for _, l := range lost {
			if l[0] < to && l[1] > from {
				atRisk[k] = true
			}
		}
	}
	seen := map[frameKey]bool{}
	for _, f := range col.frames {
		k := frameKey{f.StreamID >= 0xE0, f.PTS}
		w, ok := want[k]
		if !ok {
			t.Fatalf("seed %d: frame of stream %#x with unknown PTS %d", seed, f.StreamID, f.PTS)
		}
		codec := w.codec
		if w.video {
			codec = c.video
		}
		if err := sameFrame(f, w, codec); err != nil {
			t.Fatalf("seed %d: frame PTS %d: %v", seed, f.PTS, err)
		}
		if seen[k] {
			t.Fatalf("seed %d: frame PTS %d given twice", seed, f.PTS)
		}
		seen[k] = true
	}
	missing := 0
	for k := range want {
		if !atRisk[k] && !seen[k] {
			missing++
			if missing < 5 {
				t.Errorf("seed %d: untouched frame %+v not given out", seed, k)
			}
		}
	}
	st := d.Stats()
	if len(lost) == 0 || st.Dropped == 0 {
		t.Fatalf("seed %d: %d losses, %d frames dropped: the test lost nothing", seed, len(lost), st.Dropped)
	}
	if testing.Verbose() {
		fmt.Printf("%s seed %d: %d chunks lost, %d/%d frames out, %d at risk, stats %+v\n",
			c.name, seed, len(lost), len(col.frames), len(events), len(atRisk), st)
	}
}

// TestGarbageBetweenPackets puts random bytes between the frames, without
// Lost: the Demuxer finds its way back; every frame it gives out is intact.
// (Garbage after a video PES without a length would be taken as its
// payload: it is not tested.)
func TestGarbageBetweenPackets(t *testing.T) {
	for _, c := range muxCases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.n = 200
			spec.bframes = true
			events := buildProgram(t, spec)
			m := c.muxer
			stream, starts := muxWithOffsets(&m, events)
			rng := rand.New(rand.NewPCG(3, 3))
			var b []byte
			insertions := 0
			for i := range events {
				end := len(stream)
				if i+1 < len(events) {
					end = starts[i+1]
				}
				b = append(b, stream[starts[i]:end]...)
				// After a video PES without a length garbage is payload:
				// nothing tells it apart. Only length-bound PES are followed.
				bounded := !events[i].video || !c.muxer.ZeroLengthVideoPES
				if bounded && rng.IntN(20) == 0 {
					insertions++
					n := 1 + rng.IntN(300)
					for range n {
						b = append(b, byte(rng.IntN(256)))
					}
				}
			}
			col := demuxAll(t, b, 5)
			want := map[frameKey]event{}
			for _, e := range events {
				want[frameKey{e.video, e.pts}] = e
			}
			for _, f := range col.frames {
				w, ok := want[frameKey{f.StreamID >= 0xE0, f.PTS}]
				if !ok {
					t.Fatalf("frame with unknown PTS %d", f.PTS)
				}
				codec := w.codec
				if w.video {
					codec = c.video
				}
				if err := sameFrame(f, w, codec); err != nil {
					t.Fatalf("frame PTS %d: %v", f.PTS, err)
				}
			}
			// Each insertion costs the video frame in progress, and may
			// cost the next frames of each stream until a trusted start.
			if lostFrames := len(events) - len(col.frames); lostFrames > 3*insertions {
				t.Fatalf("%d frames lost for %d insertions", lostFrames, insertions)
			}
		})
	}
}
