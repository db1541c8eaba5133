package ps

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

// clipDir holds the elementary-stream clips of media/testsrc. They are read
// directly: importing testsrc would pull gortsplib into this package's tests.
const clipDir = "../../testsrc/testdata"

func readClip(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clipDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// videoClip is an Annex-B clip cut into access units, start codes kept.
type videoClip struct {
	codec  unit.Codec
	frames [][]byte
	keys   []bool
}

// loadVideo cuts an Annex-B clip into access units. The committed clips have
// one slice per picture, so an access unit ends after each slice; this is
// independent of the Demuxer's own access unit detection.
func loadVideo(t testing.TB, name string, codec unit.Codec) *videoClip {
	t.Helper()
	b := readClip(t, name)
	var starts []int
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte{0, 0, 1})
		if j < 0 {
			break
		}
		p := i + j
		if p > 0 && b[p-1] == 0 {
			p--
		}
		starts = append(starts, p)
		i += j + 3
	}
	starts = append(starts, len(b))
	c := &videoClip{codec: codec}
	begin, key := starts[0], false
	for k := 0; k+1 < len(starts); k++ {
		h := bytes.IndexByte(b[starts[k]:], 1) + starts[k] + 1
		vcl, isKey := nalKind(codec, b[h])
		key = key || isKey
		if vcl {
			c.frames = append(c.frames, b[begin:starts[k+1]])
			c.keys = append(c.keys, key)
			begin, key = starts[k+1], false
		}
	}
	if len(c.frames) == 0 {
		t.Fatalf("%s: no frames", name)
	}
	return c
}

// loadADTS cuts an ADTS file into frames, headers kept.
func loadADTS(t testing.TB) [][]byte {
	t.Helper()
	b := readClip(t, "aac.adts")
	var frames [][]byte
	for len(b) >= 7 {
		n := int(b[3]&0x03)<<11 | int(b[4])<<3 | int(b[5]>>5)
		if n < 7 || n > len(b) {
			t.Fatal("bad ADTS clip")
		}
		frames = append(frames, b[:n])
		b = b[n:]
	}
	return frames
}

// loadALaw cuts the A-law clip into 20 ms frames.
func loadALaw(t testing.TB) [][]byte {
	t.Helper()
	b := readClip(t, "g711a.alaw")
	var frames [][]byte
	for len(b) >= 160 {
		frames = append(frames, b[:160])
		b = b[160:]
	}
	return frames
}

// event is one frame given to a Muxer, and the frame a Demuxer must return.
type event struct {
	video    bool
	codec    unit.Codec
	pts, dts int64
	key      bool
	data     []byte
}

// programSpec describes a test program: a video clip and an audio codec,
// looped for n video frames.
type programSpec struct {
	video unit.Codec
	audio unit.Codec // CodecUnknown: none
	n     int
	start int64
	// bframes gives PTS ahead of DTS, 0 to 2 frames, to carry a DTS.
	bframes bool
	// big makes every 10th picture larger than a PES by adding filler data.
	big bool
}

// buildProgram returns the events of spec in muxing order: by time, video
// first on ties.
func buildProgram(t testing.TB, spec programSpec) []event {
	t.Helper()
	var vc *videoClip
	if spec.video == unit.CodecH265 {
		vc = loadVideo(t, "h265.h265", unit.CodecH265)
	} else {
		vc = loadVideo(t, "h264.h264", unit.CodecH264)
	}
	var video, audio []event
	for i := range spec.n {
		dts := spec.start + int64(i)*3600
		pts := dts
		if spec.bframes {
			pts += int64(i%3) * 3600
		}
		data := vc.frames[i%len(vc.frames)]
		if spec.big && i%10 == 3 {
			data = withFiller(data, spec.video, 150_000+i*100)
		}
		video = append(video, event{video: true, codec: spec.video, pts: pts, dts: dts, key: vc.keys[i%len(vc.keys)], data: data})
	}
	end := spec.start + int64(spec.n)*3600
	switch spec.audio {
	case unit.CodecAAC:
		frames := loadADTS(t)
		for j := 0; ; j++ {
			pts := spec.start + int64(j)*1024*90000/44100
			if pts >= end {
				break
			}
			audio = append(audio, event{codec: unit.CodecAAC, pts: pts, dts: pts, data: frames[j%len(frames)]})
		}
	case unit.CodecPCMA, unit.CodecPCMU:
		frames := loadALaw(t)
		for j := 0; ; j++ {
			pts := spec.start + int64(j)*1800
			if pts >= end {
				break
			}
			audio = append(audio, event{codec: spec.audio, pts: pts, dts: pts, data: frames[j%len(frames)]})
		}
	}
	out := make([]event, 0, len(video)+len(audio))
	i, j := 0, 0
	for i < len(video) || j < len(audio) {
		if j == len(audio) || i < len(video) && video[i].dts <= audio[j].pts {
			out = append(out, video[i])
			i++
		} else {
			out = append(out, audio[j])
			j++
		}
	}
	return out
}

// withFiller returns an access unit grown to about n bytes with a filler
// data NAL unit after its slice (H.264 type 12, H.265 type 38), which stays
// in the same access unit.
func withFiller(au []byte, c unit.Codec, n int) []byte {
	b := append([]byte(nil), au...)
	if c == unit.CodecH265 {
		b = append(b, 0, 0, 0, 1, 38<<1, 1)
	} else {
		b = append(b, 0, 0, 0, 1, 12)
	}
	for len(b) < n-1 {
		b = append(b, 0xFF)
	}
	return append(b, 0x80)
}

// mux writes the events with m and returns the stream.
func mux(m *Muxer, events []event) []byte {
	var b []byte
	for _, e := range events {
		if e.video {
			b = m.WriteVideo(b, e.codec, e.pts, e.dts, e.key, e.data)
		} else {
			b = m.WriteAudio(b, e.codec, e.pts, e.data)
		}
	}
	return b
}

// collector gathers the frames of a Demuxer, copying their data.
type collector struct {
	frames   []Frame
	problems []string
}

func (c *collector) demuxer() *Demuxer {
	return &Demuxer{
		OnFrame: func(f Frame) {
			f.Data = append([]byte(nil), f.Data...)
			c.frames = append(c.frames, f)
		},
		OnProblem: func(what string, err error) {
			c.problems = append(c.problems, what+": "+err.Error())
		},
	}
}

// feedRandom writes b to d in random pieces, many small ones among them.
func feedRandom(d *Demuxer, b []byte, rng *rand.Rand) {
	for len(b) > 0 {
		var n int
		switch rng.IntN(4) {
		case 0:
			n = 1 + rng.IntN(8)
		case 1:
			n = 1 + rng.IntN(200)
		default:
			n = 1 + rng.IntN(3000)
		}
		n = min(n, len(b))
		d.Write(b[:n])
		b = b[n:]
	}
}

// demuxAll demuxes b written in random pieces and flushed.
func demuxAll(t testing.TB, b []byte, seed uint64) *collector {
	t.Helper()
	c := &collector{}
	d := c.demuxer()
	feedRandom(d, b, rand.New(rand.NewPCG(seed, 1)))
	d.Flush()
	return c
}

// expect checks the frames demuxed against the events, stream by stream.
func expect(t *testing.T, got []Frame, want []event, wantVideo unit.Codec) {
	t.Helper()
	var gv, ga []Frame
	for _, f := range got {
		if f.StreamID >= 0xE0 {
			gv = append(gv, f)
		} else {
			ga = append(ga, f)
		}
	}
	var wv, wa []event
	for _, e := range want {
		if e.video {
			wv = append(wv, e)
		} else {
			wa = append(wa, e)
		}
	}
	check := func(kind string, got []Frame, want []event, codec func(event) unit.Codec) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: got %d frames, want %d", kind, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			g, w := got[i], want[i]
			if err := sameFrame(g, w, codec(w)); err != nil {
				t.Fatalf("%s frame %d: %v", kind, i, err)
			}
		}
	}
	check("video", gv, wv, func(event) unit.Codec { return wantVideo })
	check("audio", ga, wa, func(e event) unit.Codec { return e.codec })
}

func sameFrame(g Frame, w event, codec unit.Codec) error {
	switch {
	case g.Codec != codec:
		return fmt.Errorf("codec %v, want %v", g.Codec, codec)
	case g.PTS != w.pts || g.DTS != w.dts:
		return fmt.Errorf("PTS/DTS %d/%d, want %d/%d", g.PTS, g.DTS, w.pts, w.dts)
	case g.Key != w.key:
		return fmt.Errorf("key %v, want %v", g.Key, w.key)
	case !bytes.Equal(g.Data, w.data):
		return fmt.Errorf("data of %d bytes differs from the %d sent", len(g.Data), len(w.data))
	}
	return nil
}
