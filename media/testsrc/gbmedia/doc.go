// Package gbmedia is the media side of the GB28181 device simulator: it
// sends the testsrc clips as PS over RTP (GB/T 28181-2016 Appendix C), paced
// in real time, over UDP, TCP passive or TCP active, for live, playback and
// download sessions, with switches for the quirks of real devices.
//
// The SIP side (sip/gbsim) declares the interfaces it needs; this package
// does not import it. Request has the fields of gbsim.MediaRequest in the
// same order, so cmd/gbsim adapts a Sender in a few lines:
//
//	type media struct{ s *gbmedia.Sender }
//
//	func (m media) Start(ctx context.Context, r gbsim.MediaRequest) (gbsim.MediaSession, error) {
//		sess, err := m.s.Start(ctx, gbmedia.Request(r))
//		if err != nil {
//			return nil, err // not a nil *Session in a non-nil interface
//		}
//		return sess, nil
//	}
//
// See README.md for the timeline, pacing and load figures.
package gbmedia
