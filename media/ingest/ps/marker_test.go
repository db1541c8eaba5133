package ps

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
	"github.com/nvr/nvr/media/unit"
)

// publication is a unit published, and the packet whose arrival published
// it (the number of packets for those published at the end).
type publication struct {
	u      *unit.Unit
	packet int
}

// publishIn runs the packets through the receive path of a Conn without
// sockets (RTP parse, reorder, demuxer, units) and returns what it
// published, in order.
func publishIn(t *testing.T, groups [][][]byte) ([]publication, *runState) {
	t.Helper()
	st := stream.New(t.Name(), 0, nil)
	t.Cleanup(st.Close)
	c := newConn(nil, TransportUDP, 1)
	c.log = testLogger(t)
	var out []publication
	cur := 0
	rs := newRunState(c, st, RunConfig{OnUnit: func(u *unit.Unit) { out = append(out, publication{u, cur}) }}, 1, true)
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	pkts := flat(groups)
	for i, p := range pkts {
		cur = i
		rs.accept(p, from, packetTime(i))
	}
	cur = len(pkts)
	rs.finish()
	return out, rs
}

// packetTime is when publishIn takes packet i.
func packetTime(i int) time.Time { return time.Unix(1000, 0).Add(time.Duration(i) * time.Millisecond) }

// lastPackets returns, for each event of a video frame in order, the index
// of its last packet and whether it has several.
func lastPackets(evs []event, groups [][][]byte) (last []int, multi []bool) {
	n := 0
	for i, g := range groups {
		n += len(g)
		if evs[i].video {
			last = append(last, n-1)
			multi = append(multi, len(g) > 1)
		}
	}
	return last, multi
}

// TestMarkerHandsFramesOn: from a device that sets the marker on the last
// packet of each frame, each video unit is published on the arrival of its
// frame's last packet once the markers have proven right (three frames of
// several packets), not on the next frame's first packet; the units are
// the same, and audio and video stay on one timeline. (Without markers
// they do not at the end of the video: the audio clips run longer, and the
// last video frame, held until the end, comes after the audio that the
// ingest stopped holding for it.)
func TestMarkerHandsFramesOn(t *testing.T) {
	for _, tc := range []struct {
		name         string
		video, audio string
		payload      int
	}{
		{"H.264 720p AAC", testsrc.ClipH264HD, testsrc.ClipAAC, 1400},
		{"H.265 G.711", testsrc.ClipH265, testsrc.ClipPCMA, 500},
		{"H.264 AAC", testsrc.ClipH264, testsrc.ClipAAC, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := senderConfig{video: tc.video, audio: tc.audio, ssrc: 1, extension: true, payload: tc.payload, loops: 2}
			evs := buildEvents(t, cfg)
			got, rs := publishIn(t, packetize(cfg, evs))
			noMarker := cfg
			noMarker.markerNever = true
			want, _ := publishIn(t, packetize(noMarker, evs))
			for _, track := range []int{videoTrack, audioTrack} {
				sameUnits(t, trackUnits(got, track), trackUnits(want, track), false)
			}
			checkTimeline(t, got)

			last, multi := lastPackets(evs, packetize(cfg, evs))
			// With markers or not, a video unit is stamped with the time
			// its frame's last packet was taken (unless it came out long
			// after: the last one without markers).
			for _, pubs := range [][]publication{got, want} {
				for i, p := range trackUnits(pubs, videoTrack) {
					if p.packet-last[i] < takenWrites && !p.u.Time.Equal(packetTime(last[i])) {
						t.Fatalf("video unit %d stamped %v, its last packet was taken at %v", i, p.u.Time, packetTime(last[i]))
					}
				}
			}
			n, early, confirmed := 0, 0, 0
			for _, p := range got {
				if !p.u.IsVideo() {
					continue
				}
				trusted := confirmed >= 3
				if multi[n] {
					confirmed++
				}
				if trusted {
					if p.packet != last[n] {
						t.Fatalf("video unit %d published at packet %d, its last packet is %d", n, p.packet, last[n])
					}
					early++
				}
				n++
			}
			if early < n-10 {
				t.Fatalf("%d of %d video units published early", early, n)
			}
			if st := rs.tracks.demux.Stats(); st.MarkerFrames != uint64(early) || st.MarkerCuts != 0 {
				t.Fatalf("demuxer stats %+v", st)
			}
			// Without markers, each waited for the first packet of the
			// next frame (or of the audio after it).
			gv, wv := trackUnits(got, videoTrack), trackUnits(want, videoTrack)
			for i := 10; i < len(wv); i++ {
				if wv[i].packet <= gv[i].packet {
					t.Fatalf("video unit %d: published at packet %d without markers, %d with", i, wv[i].packet, gv[i].packet)
				}
			}
		})
	}
}

// TestMarkerLossReorder: with good markers, packets lost, swapped and
// duplicated on the way: every unit published is intact (a frame is handed
// on at its marker only when the reorder buffer delivered all its packets
// in order), and no frame that gets through without markers is lost with
// them. (More get through: a loss at the start of the next frame no longer
// costs the frame before, already handed on.)
func TestMarkerLossReorder(t *testing.T) {
	cfg := senderConfig{video: testsrc.ClipH264HD, audio: testsrc.ClipAAC, ssrc: 1, payload: 1400, loops: 2}
	evs := buildEvents(t, cfg)
	clean, _ := publishIn(t, packetize(cfg, evs))
	byDTS := map[time.Duration]*unit.Unit{}
	for _, p := range trackUnits(clean, videoTrack) {
		byDTS[p.u.DTS] = p.u
	}
	noMarker := cfg
	noMarker.markerNever = true
	for seed := range uint64(4) {
		got, rs := publishIn(t, lossy(packetize(cfg, evs), 0.01, 0.05, 0.01, seed))
		want, _ := publishIn(t, lossy(packetize(noMarker, evs), 0.01, 0.05, 0.01, seed))
		units := make([]*unit.Unit, len(got))
		for i, p := range got {
			units[i] = p.u
		}
		checkUnits(t, units, unit.CodecH264, unit.CodecAAC)
		gv := trackUnits(got, videoTrack)
		seen := map[time.Duration]bool{}
		for _, p := range gv {
			c := byDTS[p.u.DTS]
			if c == nil || !slices.EqualFunc(p.u.Data, c.Data, slices.Equal) || p.u.Key != c.Key {
				t.Fatalf("seed %d: video unit DTS %v is not the one sent", seed, p.u.DTS)
			}
			seen[p.u.DTS] = true
		}
		for _, p := range trackUnits(want, videoTrack) {
			if !seen[p.u.DTS] {
				t.Fatalf("seed %d: video unit DTS %v published without markers, not with them", seed, p.u.DTS)
			}
		}
		st := rs.reorder.Stats()
		if st.Lost == 0 || st.Reordered == 0 || rs.tracks.demux.Stats().MarkerFrames == 0 {
			t.Fatalf("seed %d: reorder %+v, demuxer %+v", seed, st, rs.tracks.demux.Stats())
		}
		t.Logf("seed %d: %d packets lost, %d reordered; %d video units with markers, %d without, %d sent",
			seed, st.Lost, st.Reordered, len(gv), len(trackUnits(want, videoTrack)), len(byDTS))
	}
}

// TestMarkerQuirksIngest: with the marker on the first packet of each
// frame, on every packet, or on none, the same units are published at the
// same packets as without markers.
func TestMarkerQuirksIngest(t *testing.T) {
	for _, q := range []string{"first", "every", "never"} {
		t.Run(q, func(t *testing.T) {
			cfg := senderConfig{video: testsrc.ClipH264HD, audio: testsrc.ClipAAC, ssrc: 1, payload: 1400,
				markerFirst: q == "first", markerEvery: q == "every", markerNever: q == "never"}
			evs := buildEvents(t, cfg)
			got, rs := publishIn(t, packetize(cfg, evs))
			ref := cfg
			ref.markerFirst, ref.markerEvery, ref.markerNever = false, false, true
			want, _ := publishIn(t, packetize(ref, evs))
			sameUnits(t, got, want, true)
			if st := rs.tracks.demux.Stats(); st.MarkerFrames != 0 || st.MarkerCuts != 0 {
				t.Fatalf("demuxer stats %+v", st)
			}
		})
	}
}

func trackUnits(pubs []publication, track int) []publication {
	var out []publication
	for _, p := range pubs {
		if p.u.Track == track {
			out = append(out, p)
		}
	}
	return out
}

// sameUnits checks that two runs published the same units in the same
// order (exact: at the same packets too).
func sameUnits(t *testing.T, got, want []publication, exact bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d units published, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i].u, want[i].u
		if g.Track != w.Track || g.DTS != w.DTS || g.PTS != w.PTS || g.Key != w.Key || !slices.EqualFunc(g.Data, w.Data, slices.Equal) {
			t.Fatalf("unit %d: track %d DTS %v, want track %d DTS %v", i, g.Track, g.DTS, w.Track, w.DTS)
		}
		if exact && got[i].packet != want[i].packet {
			t.Fatalf("unit %d published at packet %d, want %d", i, got[i].packet, want[i].packet)
		}
	}
}

// checkTimeline checks that the units are published in DTS order across
// tracks: one timeline for the outputs.
func checkTimeline(t *testing.T, pubs []publication) {
	t.Helper()
	for i := 1; i < len(pubs); i++ {
		if a, b := pubs[i-1].u, pubs[i].u; b.DTS < a.DTS {
			t.Fatalf("unit %d (track %d) DTS %v after unit %d (track %d) DTS %v", i, b.Track, b.DTS, i-1, a.Track, a.DTS)
		}
	}
}
