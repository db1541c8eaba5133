package ps

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

// captures are the sample streams committed in testdata for the tests of
// other packages (see testdata/README.md). They are our Muxer's output, so
// they are golden files: -update rewrites them, and without it the test
// checks that the Muxer still writes them byte for byte.
var captures = []struct {
	file  string
	spec  programSpec
	muxer Muxer
	video unit.Codec
}{
	{"h264_pcma.ps", programSpec{video: unit.CodecH264, audio: unit.CodecPCMA, n: 30, start: 90000}, Muxer{}, unit.CodecH264},
	{"h265_aac_hik.ps", programSpec{video: unit.CodecH265, audio: unit.CodecAAC, n: 30, start: 90000},
		Muxer{VideoStreamType: StreamH264, PrivateStream: true, MaxPESPayload: 4096, PackPerPES: true}, unit.CodecH265},
	{"h264_pcma_nopsm_zero_length.ps", programSpec{video: unit.CodecH264, audio: unit.CodecPCMA, n: 30, start: 90000},
		Muxer{NoPSM: true, ZeroLengthVideoPES: true}, unit.CodecH264},
}

func TestCaptures(t *testing.T) {
	for _, c := range captures {
		t.Run(c.file, func(t *testing.T) {
			events := buildProgram(t, c.spec)
			m := c.muxer
			stream := mux(&m, events)
			path := filepath.Join("testdata", c.file)
			if *update {
				if err := os.WriteFile(path, stream, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, stream) {
				t.Fatalf("%s differs from the Muxer's output; run go test -run TestCaptures -update", path)
			}
			col := demuxAll(t, b, 11)
			expect(t, col.frames, events, c.video)
			keys := 0
			for _, f := range col.frames {
				if f.Key {
					keys++
				}
			}
			if keys != 2 {
				t.Fatalf("%d key frames", keys)
			}
		})
	}
}
