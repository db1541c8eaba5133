package gb_test

import (
	"context"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/gbsim"
)

// endingMedia is a simulator Media whose sessions end as soon as they
// begin: a playback that reaches its end at once.
type endingMedia struct{}

func (endingMedia) Start(context.Context, gbsim.MediaRequest) (gbsim.MediaSession, error) {
	return &endingSession{done: make(chan struct{})}, nil
}

type endingSession struct{ done chan struct{} }

func (s *endingSession) LocalPort() int        { return 40000 }
func (s *endingSession) Begin()                { close(s.done) }
func (s *endingSession) Play(float64)          {}
func (s *endingSession) Pause()                {}
func (s *endingSession) Seek(time.Duration)    {}
func (s *endingSession) Done() <-chan struct{} { return s.done }
func (s *endingSession) Close()                {}

// The MediaStatus 121 a device sends at the end of a playback, in the
// media session's dialog, reaches Events with the INVITE's Call-ID.
func TestMediaStatusCallID(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, nil)
			d := e.device(t, func(c *gbsim.Config) {
				c.Transport = tr
				c.Media = endingMedia{}
				c.Quirks.NoByeAtEnd = true
			})
			start := time.Now().Add(-time.Hour)
			dlg, err := e.server.Invite(ctxTimeout(t, 5*time.Second), sip.InviteRequest{
				DeviceID: d.ID(), ChannelID: d.ChannelID(1), Mode: sip.ModePlayback,
				Start: start, End: start.Add(time.Minute), IP: "127.0.0.1", Port: 30000,
			})
			if err != nil {
				t.Fatal(err)
			}
			ev := e.events.next(t, "media", 5*time.Second)
			if ev.notifyType != "121" || ev.deviceID != d.ID() || ev.callID != dlg.CallID() {
				t.Errorf("media status %+v, dialog %s", ev, dlg.CallID())
			}
			if e.server.Dialog(ev.callID) != dlg {
				t.Error("the dialog is not found by the Call-ID")
			}
			if err := dlg.Bye(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
