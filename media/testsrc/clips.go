package testsrc

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
)

// Names of the embedded clips, as accepted by LoadVideo and LoadAudio.
const (
	// ClipH264 is H.264 Main, 320x240, 25 fps, 4 s (100 frames), IDR every 25 frames.
	ClipH264 = "h264.h264"
	// ClipH265 is H.265 Main, 320x240, 25 fps, 4 s (100 frames), IDR every 25 frames.
	ClipH265 = "h265.h265"
	// ClipH264HD is H.264 Main, 1280x720, 25 fps, 2 s (50 frames) at about 2 Mbit/s, for load tests.
	ClipH264HD = "h264_720p.h264"
	// ClipAAC is AAC-LC, 44100 Hz mono, 4 s of a 440 Hz sine, in ADTS.
	ClipAAC = "aac.adts"
	// ClipPCMA is G.711 A-law, 8000 Hz mono, 4 s of a 440 Hz sine, raw.
	ClipPCMA = "g711a.alaw"
)

// ErrUnknownClip is returned by LoadVideo and LoadAudio when the name is not an
// embedded clip of the requested kind.
var ErrUnknownClip = errors.New("unknown clip")

//go:embed testdata/*.h264 testdata/*.h265 testdata/*.adts testdata/*.alaw
var clipFS embed.FS

// readClip returns a private copy of an embedded clip.
func readClip(name string) ([]byte, error) {
	// path.Base keeps callers from reaching outside testdata with "../".
	if name == "" || path.Base(name) != name {
		return nil, fmt.Errorf("%w: %q", ErrUnknownClip, name)
	}
	// embed.FS.ReadFile returns a copy, so callers may modify what they load.
	buf, err := clipFS.ReadFile("testdata/" + name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownClip, name)
		}
		return nil, err
	}
	return buf, nil
}
