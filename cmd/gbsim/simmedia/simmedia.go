// Package simmedia joins the simulator's two halves: the SIP side
// (sip/gbsim), which answers INVITEs, and the media side
// (media/testsrc/gbmedia), which sends PS over RTP. Neither may import the
// other, so cmd/gbsim and the platform's end-to-end tests adapt one to the
// other here.
package simmedia

import (
	"context"

	"github.com/nvr/nvr/media/testsrc/gbmedia"
	"github.com/nvr/nvr/sip/gbsim"
)

// Adapt makes s the Media of simulated devices.
func Adapt(s *gbmedia.Sender) gbsim.Media { return media{s} }

type media struct{ s *gbmedia.Sender }

func (m media) Start(ctx context.Context, r gbsim.MediaRequest) (gbsim.MediaSession, error) {
	sess, err := m.s.Start(ctx, gbmedia.Request(r))
	if err != nil {
		return nil, err // not a nil *Session in a non-nil interface
	}
	return sess, nil
}
