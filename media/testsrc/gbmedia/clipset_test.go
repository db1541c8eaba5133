package gbmedia

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nvr/nvr/media/unit"
)

func TestLoadClipSets(t *testing.T) {
	cases := []struct {
		name  string
		video unit.Codec
		audio unit.Codec
		fps   int
	}{
		{ClipSetH264G711A, unit.CodecH264, unit.CodecPCMA, 25},
		{ClipSetH265AAC, unit.CodecH265, unit.CodecAAC, 25},
		{ClipSetH264HDG711A, unit.CodecH264, unit.CodecPCMA, 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs, err := loadClipSet(c.name, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cs.videoCodec != c.video || cs.audioCodec != c.audio || cs.fps != c.fps {
				t.Fatalf("got %v/%v %d fps", cs.videoCodec, cs.audioCodec, cs.fps)
			}
			if len(cs.keys) == 0 || cs.keys[0] != 0 {
				t.Fatalf("keys %v", cs.keys)
			}
			for i, f := range cs.video {
				if !bytes.HasPrefix(f.annexB, startCode) {
					t.Fatalf("frame %d is not Annex-B", i)
				}
			}
			if c.audio == unit.CodecAAC {
				for i, f := range cs.audio {
					if f[0] != 0xff || f[1]&0xf0 != 0xf0 || int(f[3]&3)<<11|int(f[4])<<3|int(f[5]>>5) != len(f) {
						t.Fatalf("audio frame %d is not one ADTS frame", i)
					}
				}
			}
		})
	}
	if _, err := loadClipSet("vp9+opus", 0); !errors.Is(err, ErrUnknownClipSet) {
		t.Errorf("unknown set: %v", err)
	}
	if got := ClipSets(); len(got) != len(cases) {
		t.Errorf("ClipSets() = %v", got)
	}
}

// TestBitratePadding checks that Bitrate raises the elementary streams to
// the target (minus the PS/RTP overhead) with filler NAL units only.
func TestBitratePadding(t *testing.T) {
	for _, name := range []string{ClipSetH264G711A, ClipSetH265AAC} {
		t.Run(name, func(t *testing.T) {
			plain, err := loadClipSet(name, 0)
			if err != nil {
				t.Fatal(err)
			}
			const target = 2_000_000
			cs, err := loadClipSet(name, target)
			if err != nil {
				t.Fatal(err)
			}
			h265 := cs.videoCodec == unit.CodecH265
			filler := 12
			if h265 {
				filler = 38
			}
			var video, audio int
			for i, f := range cs.video {
				video += len(f.annexB)
				if !bytes.HasPrefix(f.annexB, plain.video[i].annexB) {
					t.Fatalf("frame %d: padding changed the picture", i)
				}
				extra := f.annexB[len(plain.video[i].annexB):]
				if len(extra) > 0 {
					types := nalTypes(extra, h265)
					if len(types) != 1 || types[filler] != 1 || extra[len(extra)-1] != 0x80 {
						t.Fatalf("frame %d: padding is not one filler NAL unit: %v", i, types)
					}
				}
			}
			for _, f := range cs.audio {
				audio += len(f)
			}
			dur := float64(len(cs.video)) / float64(cs.fps)
			audioDur := float64(len(cs.audio)*cs.samplesPerFrame) / float64(cs.audioRate)
			rate := (float64(video)/dur + float64(audio)/audioDur) * 8
			want := target * (1 - psOverhead)
			if rate < want*0.99 || rate > want*1.01 {
				t.Errorf("elementary rate %.0f bit/s, want %.0f", rate, want)
			}
		})
	}
	// The 720p clip is already at about 2 Mbit/s: nothing to add.
	hd, err := loadClipSet(ClipSetH264HDG711A, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := loadClipSet(ClipSetH264HDG711A, 0)
	for i := range hd.video {
		if len(hd.video[i].annexB) != len(plain.video[i].annexB) {
			t.Fatalf("720p frame %d padded below its own rate", i)
		}
	}
}
