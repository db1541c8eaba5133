package main

import (
	"fmt"
	"strings"

	"github.com/nvr/nvr/cmd/gbsim/simmedia"
	"github.com/nvr/nvr/media/testsrc/gbmedia"
	"github.com/nvr/nvr/sip/gbsim"
)

// mediaOptions are the flags of -media ps.
type mediaOptions struct {
	clips   string
	bitrate int
	quirks  gbmedia.Quirks
}

// newMedia returns the Media of -media: nil ("none", the default) makes the
// devices answer INVITEs with gbsim.DefaultMediaPort and send nothing; "ps"
// sends the test clips as PS over RTP.
func newMedia(o *options) (gbsim.Media, error) {
	switch o.media {
	case "", "none":
		return nil, nil
	case "ps":
		ok := false
		for _, c := range gbmedia.ClipSets() {
			ok = ok || c == o.mediaOpts.clips
		}
		if !ok {
			return nil, fmt.Errorf("-clips %q: want one of %s", o.mediaOpts.clips, strings.Join(gbmedia.ClipSets(), ", "))
		}
		s := &gbmedia.Sender{
			Clips:   o.mediaOpts.clips,
			Quirks:  o.mediaOpts.quirks,
			BindIP:  o.localIP,
			Bitrate: o.mediaOpts.bitrate,
		}
		return simmedia.Adapt(s), nil
	default:
		return nil, fmt.Errorf("-media %q: want none or ps", o.media)
	}
}
