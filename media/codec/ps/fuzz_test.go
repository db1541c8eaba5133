package ps

import (
	"bytes"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

var update = flag.Bool("update", false, "rewrite the committed fuzz seeds and the sample captures in testdata")

// maxSeedSize keeps committed seeds small: the fuzzer mutates small inputs
// much faster, and a few packets of each kind cover the parser.
const maxSeedSize = 4 << 10

// seedCases are the device shapes the committed seeds are made of.
var seedCases = map[string]bool{
	"h264_pcma": true, "h265_aac": true, "nopsm_h265_aac": true, "h265_declared_h264": true,
	"zero_length_pes_h264": true, "private_h264_pcma": true, "pack_per_pes_h264": true, "all_quirks_h265": true,
}

// FuzzDemux feeds arbitrary bytes whole and in pieces (and with losses, and
// with RTP markers): the Demuxer must not panic, must keep its limits, and
// must give the same frames however the bytes are cut.
func FuzzDemux(f *testing.F) {
	var s []byte
	s = pack(s, 0)
	s = psm(s, psmEntry{StreamH264, VideoStreamID}, psmEntry{StreamG711A, AudioStreamID})
	s = pes(s, VideoStreamID, 0, h264IDR)
	s = pes(s, AudioStreamID, 0, bytes.Repeat([]byte{0xD5}, 32))
	s = pack(s, 3600)
	s = pesUnbounded(s, VideoStreamID, 3600, h264P)
	s = pack(s, 7200)
	s = pes(s, VideoStreamID, -1, h265IDR)
	f.Add(s)

	f.Fuzz(func(t *testing.T, b []byte) {
		whole := fuzzRun(t, b, func(d *Demuxer) { d.Write(b) })
		rng := rand.New(rand.NewPCG(uint64(len(b)), uint64(crc32.ChecksumIEEE(b))))
		pieces := fuzzRun(t, b, func(d *Demuxer) {
			for rest := b; len(rest) > 0; {
				n := min(1+rng.IntN(97), len(rest))
				d.Write(rest[:n])
				rest = rest[n:]
			}
		})
		if len(whole) != len(pieces) {
			t.Fatalf("%d frames whole, %d in pieces", len(whole), len(pieces))
		}
		for i := range whole {
			w, p := whole[i], pieces[i]
			if w.Codec != p.Codec || w.StreamID != p.StreamID || w.PTS != p.PTS || w.DTS != p.DTS ||
				w.Key != p.Key || !bytes.Equal(w.Data, p.Data) {
				t.Fatalf("frame %d whole %v %#x %d/%d %v %d bytes, in pieces %v %#x %d/%d %v %d bytes", i,
					w.Codec, w.StreamID, w.PTS, w.DTS, w.Key, len(w.Data), p.Codec, p.StreamID, p.PTS, p.DTS, p.Key, len(p.Data))
			}
		}
		fuzzRun(t, b, func(d *Demuxer) {
			for rest := b; len(rest) > 0; {
				n := min(1+rng.IntN(300), len(rest))
				if rng.IntN(4) == 0 {
					d.Lost()
				} else {
					d.Write(rest[:n])
				}
				rest = rest[n:]
			}
		})
		// Markers after some pieces: mostly at the ends of the pieces that
		// end a PES, so that they get trusted, and wrong now and then.
		fuzzRun(t, b, func(d *Demuxer) {
			for rest := b; len(rest) > 0; {
				n := min(1+rng.IntN(200), len(rest))
				d.Write(rest[:n])
				rest = rest[n:]
				if d.state == stHeader && d.nhdr == 0 || rng.IntN(8) == 0 {
					d.Marker()
				}
			}
			if st := d.Stats(); st.MarkerCuts > 1 || st.MarkerCuts == 1 && d.MarkerState() != MarkerIgnored {
				t.Fatalf("stats %+v", st)
			}
		})
	})
}

// fuzzMaxFrame is the MaxFrameSize of the fuzzed Demuxer: small, so that
// the limit is reached.
const fuzzMaxFrame = 4096

// fuzzRun runs feed on a fresh Demuxer, flushes it, checks each frame and
// returns copies of them.
func fuzzRun(t *testing.T, b []byte, feed func(*Demuxer)) []Frame {
	var frames []Frame
	d := &Demuxer{MaxFrameSize: fuzzMaxFrame}
	d.OnProblem = func(what string, err error) {
		if what == "" || err == nil {
			t.Fatalf("problem %q %v", what, err)
		}
	}
	d.OnFrame = func(f Frame) {
		switch {
		case len(f.Data) == 0:
			t.Fatal("empty frame")
		case f.Codec.IsVideo() != (f.StreamID >= 0xE0 && f.StreamID <= 0xEF):
			t.Fatalf("codec %v on stream %#x", f.Codec, f.StreamID)
		case f.Codec == unit.CodecUnknown || f.Codec > unit.CodecPCMU:
			t.Fatalf("codec %v", f.Codec)
		case f.Codec.IsVideo() && len(f.Data) > fuzzMaxFrame, !f.Codec.IsVideo() && len(f.Data) > maxAudioFrame:
			t.Fatalf("%v frame of %d bytes", f.Codec, len(f.Data))
		case !f.Codec.IsVideo() && f.Key:
			t.Fatal("audio key frame")
		}
		f.Data = append([]byte(nil), f.Data...)
		frames = append(frames, f)
	}
	feed(d)
	d.Flush()
	if st := d.Stats(); st.Bytes > uint64(len(b)) || st.Frames != uint64(len(frames)) {
		t.Fatalf("stats %+v for %d bytes, %d frames", st, len(b), len(frames))
	}
	return frames
}

// TestFuzzSeeds regenerates the committed seeds with -update: our Muxer's
// output with each device quirk, and gomedia's, each cut to a few KiB at a
// packet boundary. Without -update it checks that the seeds are there.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDemux")
	if !*update {
		seeds, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(seeds) == 0 {
			t.Fatal("no committed fuzz seeds; run go test -run TestFuzzSeeds -update")
		}
		return
	}
	seeds := map[string][]byte{}
	for _, c := range muxCases {
		if !seedCases[c.name] {
			continue
		}
		spec := c.spec
		spec.n, spec.big = 8, false
		m := c.muxer
		if m.PackPerPES {
			m.MaxPESPayload = 300
		}
		stream, starts := muxWithOffsets(&m, seedProgram(t, spec))
		seeds["nvr_"+c.name] = cutAt(stream, starts, maxSeedSize)
	}
	for _, spec := range []programSpec{
		{video: unit.CodecH264, audio: unit.CodecPCMA, n: 8, start: 90 * 1000},
		{video: unit.CodecH265, audio: unit.CodecAAC, n: 8, start: 90 * 1000},
	} {
		stream, _ := muxGomedia(t, spec, seedProgram(t, spec))
		seeds[fmt.Sprintf("gomedia_%v_%v", spec.video, spec.audio)] = cutAt(stream, packStarts(stream), maxSeedSize)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Seeds the fuzzer found (named by hash) stay.
	for _, prefix := range []string{"nvr_", "gomedia_"} {
		old, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
		for _, o := range old {
			os.Remove(o)
		}
	}
	for name, b := range seeds {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// seedProgram is a program whose first picture, a key frame carrying the
// system header and map, is a P picture of the clip: a key frame of the
// clip alone would nearly fill a seed, and the Demuxer only needs real
// bytes of each kind.
func seedProgram(t testing.TB, spec programSpec) []event {
	events := buildProgram(t, spec)
	for i := range events {
		if events[i].video {
			for j := i + 1; j < len(events); j++ {
				if events[j].video {
					events[i].data = events[j].data
					break
				}
			}
			break
		}
	}
	return events
}

// cutAt returns the longest prefix of b not over limit bytes that ends at
// one of the offsets, or the first limit bytes when none fits.
func cutAt(b []byte, offsets []int, limit int) []byte {
	end := 0
	for _, o := range offsets {
		if o <= limit && o > end {
			end = o
		}
	}
	if len(b) <= limit {
		end = len(b)
	}
	if end == 0 {
		end = min(limit, len(b))
	}
	return b[:end]
}

// packStarts returns the offsets of the pack headers in b.
func packStarts(b []byte) []int {
	var offs []int
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte{0, 0, 1, idPackHeader})
		if j < 0 {
			return offs
		}
		offs = append(offs, i+j)
		i += j + 4
	}
}
