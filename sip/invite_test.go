package sip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/mansrtsp"
	"github.com/nvr/nvr/sip/sdp"
)

var signalling = []string{"udp", "tcp"}

// Invite against the simulator over UDP and TCP signalling, with each media
// transport: the offer says what was asked, the answer is read, the media
// is started with the platform's address and begun on the ACK, and the
// platform's BYE reaches the device and stops the media.
func TestInvite(t *testing.T) {
	media := []struct {
		transport, setup string
		want             string // the simulator's view
		answerSetup      string
	}{
		{"UDP", "", gbsim.TransportUDP, ""},
		{"TCP", "passive", gbsim.TransportTCPPassive, "active"},
		{"TCP", "active", gbsim.TransportTCPActive, "passive"},
	}
	for _, sig := range signalling {
		for _, m := range media {
			t.Run(sig+"/"+m.want, func(t *testing.T) {
				e := newInviteEnv(t, sig, gbsim.Quirks{}, nil)
				r := e.request(ModePlay)
				r.Transport, r.Setup = m.transport, m.setup
				d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), r)
				if err != nil {
					t.Fatal(err)
				}
				a := d.Answer()
				sess := e.media.session(t, 0)
				if a.IP != "127.0.0.1" || a.Port != sess.port || a.TCP != (m.transport == "TCP") || a.Setup != m.answerSetup ||
					a.SSRC != d.SSRC() || a.SSRCValue() == 0 {
					t.Errorf("answer %+v", a)
				}
				if sess.req.Transport != m.want || sess.req.RemoteAddr != "127.0.0.1:30000" || sess.req.Mode != ModePlay ||
					sess.req.ChannelID != e.sim.ChannelID(1) || sess.req.SSRC != a.SSRCValue() {
					t.Errorf("media request %+v", sess.req)
				}
				sess.waitOps(t, "begin")
				if e.srv.Dialog(d.CallID()) != d || len(e.srv.Dialogs(e.sim.ID())) != 1 {
					t.Error("dialog not findable")
				}

				c := e.call(t, d.CallID(), "confirmed", func(c gbsim.Call) bool { return c.Confirmed })
				if c.ChannelID != e.sim.ChannelID(1) || c.Status != 200 || c.Offer.Mode() != sdp.Play ||
					c.Offer.Origin != e.srv.ID || c.Offer.Port != 30000 || c.Offer.SSRC != d.SSRC() ||
					c.Offer.Direction != sdp.RecvOnly || len(c.Offer.RTPMaps) != 3 || !c.Offer.Start.IsZero() {
					t.Errorf("call %+v", c)
				}
				if m.transport == "TCP" && (c.Offer.Setup != m.setup || c.Offer.Connection != "new" || c.Offer.Proto != sdp.ProtoTCP) {
					t.Errorf("TCP offer %+v", c.Offer)
				}
				var inv gbsim.Incoming
				for _, in := range e.sim.Received() {
					if in.Method == "INVITE" {
						inv = in
					}
				}
				wantSubject := e.sim.ChannelID(1) + ":" + d.SSRC() + "," + e.srv.ID + ":0"
				if inv.Subject != wantSubject || !strings.HasPrefix(inv.URI, "sip:"+e.sim.ChannelID(1)+"@") ||
					!strings.EqualFold(inv.ContentType, "application/sdp") {
					t.Errorf("INVITE subject %q, URI %q, type %q", inv.Subject, inv.URI, inv.ContentType)
				}

				if err := d.Bye(ctxTimeout(t, 5*time.Second)); err != nil {
					t.Fatal(err)
				}
				waitDone(t, d, time.Second)
				if !errors.Is(d.Err(), ErrLocalBye) || e.srv.Dialog(d.CallID()) != nil {
					t.Errorf("after Bye: %v", d.Err())
				}
				e.call(t, d.CallID(), "ended by the platform", func(c gbsim.Call) bool { return c.ByePlatform && c.Ended })
				waitClosed(t, sess)
				if err := d.Bye(ctxTimeout(t, time.Second)); err != nil {
					t.Errorf("second Bye: %v", err)
				}
			})
		}
	}
}

// Playback and download offers carry u=, t=, a=downloadspeed and the
// sub-stream attributes; the simulator reads them into its media request.
func TestInviteHistoryOffer(t *testing.T) {
	e := newInviteEnv(t, "udp", gbsim.Quirks{}, nil)
	r := e.request(ModeDownload)
	r.DownloadSpeed = 4
	r.StreamNumber = 1
	r.Format = "v/2/5/25/1/4000a/1/8/1"
	d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), r)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Bye(context.Background())
	sess := e.media.session(t, 0)
	if sess.req.Mode != ModeDownload || !sess.req.Start.Equal(r.Start) || !sess.req.End.Equal(r.End) ||
		sess.req.DownloadSpeed != 4 {
		t.Errorf("media request %+v", sess.req)
	}
	c := e.call(t, d.CallID(), "answered", func(c gbsim.Call) bool { return c.Status == 200 })
	if c.Offer.URI != e.sim.ChannelID(1)+":0" || c.Offer.Stream != 1 || c.Offer.Format != r.Format ||
		!strings.HasPrefix(c.Offer.SSRC, "1") || d.Answer().Session.FileSize != -1 {
		t.Errorf("offer %+v, answer %+v", c.Offer, d.Answer())
	}
}

// A device answering with its own SSRC, or 0: the answer says so and the
// media carries it.
func TestInviteAnswerSSRC(t *testing.T) {
	for _, q := range []gbsim.Quirks{{OwnSSRC: true}, {ZeroSSRC: true}} {
		e := newInviteEnv(t, "udp", q, nil)
		d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay))
		if err != nil {
			t.Fatal(err)
		}
		a := d.Answer()
		sess := e.media.session(t, 0)
		switch {
		case q.OwnSSRC && (a.SSRC == d.SSRC() || len(a.SSRC) != 10 || a.SSRCValue() != sess.req.SSRC):
			t.Errorf("own SSRC: answer %q, offer %q, media %d", a.SSRC, d.SSRC(), sess.req.SSRC)
		case q.ZeroSSRC && (a.SSRC != "0000000000" || a.SSRCValue() != 0 || sess.req.SSRC != 0):
			t.Errorf("zero SSRC: answer %q, media %d", a.SSRC, sess.req.SSRC)
		}
		// The answered SSRC is in use too.
		for range 20 {
			if s := e.srv.NewSSRC(false); s == a.SSRC || s == d.SSRC() {
				t.Errorf("NewSSRC gave %s, in use", s)
			}
		}
		_ = d.Bye(ctxTimeout(t, time.Second))
	}
}

// A channel that never answers: the INVITE is cancelled after
// InviteTimeout, the device sees the CANCEL, and Invite returns ErrTimeout.
func TestInviteNoAnswer(t *testing.T) {
	for _, sig := range signalling {
		t.Run(sig, func(t *testing.T) {
			e := newInviteEnv(t, sig, gbsim.Quirks{}, func(s *Server) { s.InviteTimeout = 300 * time.Millisecond })
			e.sim.SetQuirks(gbsim.Quirks{SilentChannels: []string{e.sim.ChannelID(1)}})
			start := time.Now()
			d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay))
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || d != nil {
				t.Fatalf("Invite: %v, %v", d, err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s", took)
			}
			calls := e.sim.Calls()
			if len(calls) != 1 {
				t.Fatalf("calls %+v", calls)
			}
			// The simulator answers the CANCEL, then 487, which is ACKed.
			c := e.call(t, calls[0].CallID, "cancelled", func(c gbsim.Call) bool {
				return c.Cancelled && c.Status == 487 && c.Acks == 1
			})
			if len(e.media.sessions) != 0 || c.Confirmed {
				t.Errorf("media started for a silent channel: %+v", c)
			}
			if len(e.srv.Dialogs(e.sim.ID())) != 0 {
				t.Error("a dialog remains")
			}
		})
	}
}

// The caller's context ends while the device is still working on the
// INVITE (100 Trying sent): CANCEL, 487, ACK, and Invite returns ctx's
// error.
func TestInviteCancelledByCaller(t *testing.T) {
	e := newInviteEnv(t, "udp", gbsim.Quirks{InviteDelay: 3 * time.Second}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := e.srv.Invite(ctx, e.request(ModePlay))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Invite: %v", err)
	}
	calls := e.sim.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	e.call(t, calls[0].CallID, "cancelled", func(c gbsim.Call) bool { return c.Cancelled && c.Status == 487 && c.Acks == 1 })
}

// A 200 that crosses the CANCEL (the device ignores it) is ACKed and ended
// with a BYE.
func TestInviteAnsweredAfterCancel(t *testing.T) {
	e := newInviteEnv(t, "udp", gbsim.Quirks{InviteDelay: 600 * time.Millisecond, IgnoreCancel: true},
		func(s *Server) { s.InviteTimeout = 200 * time.Millisecond })
	if _, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Invite: %v", err)
	}
	calls := e.sim.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	c := e.call(t, calls[0].CallID, "ACKed and ended", func(c gbsim.Call) bool {
		return c.Cancelled && c.Status == 200 && c.Confirmed && c.ByePlatform && c.Ended
	})
	if c.Acks < 1 {
		t.Errorf("call %+v", c)
	}
	waitClosed(t, e.media.session(t, 0))
}

// A non-2xx final response is a *ResponseError, and it is ACKed.
func TestInviteRefused(t *testing.T) {
	for _, sig := range signalling {
		t.Run(sig, func(t *testing.T) {
			e := newInviteEnv(t, sig, gbsim.Quirks{InviteStatus: 486}, nil)
			_, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay))
			var re *ResponseError
			if !errors.As(err, &re) || re.Code != 486 {
				t.Fatalf("Invite: %v", err)
			}
			e.call(t, e.sim.Calls()[0].CallID, "ACKed", func(c gbsim.Call) bool { return c.Status == 486 && c.Acks == 1 })
			if len(e.srv.Dialogs(e.sim.ID())) != 0 {
				t.Error("a dialog remains")
			}
		})
	}
	// An unknown channel: 404.
	e := newInviteEnv(t, "udp", gbsim.Quirks{}, nil)
	r := e.request(ModePlay)
	r.ChannelID = gbsim.MakeID(131, 999)
	var re *ResponseError
	if _, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), r); !errors.As(err, &re) || re.Code != 404 {
		t.Fatalf("Invite of an unknown channel: %v", err)
	}
}

// The device ends a live stream with BYE: Done, ErrRemoteBye, the dialog
// is forgotten, and the platform's Bye then sends nothing.
func TestDeviceBye(t *testing.T) {
	for _, sig := range signalling {
		t.Run(sig, func(t *testing.T) {
			e := newInviteEnv(t, sig, gbsim.Quirks{}, nil)
			d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay))
			if err != nil {
				t.Fatal(err)
			}
			e.call(t, d.CallID(), "confirmed", func(c gbsim.Call) bool { return c.Confirmed })
			if err := e.sim.Bye(ctxTimeout(t, 5*time.Second), d.CallID()); err != nil {
				t.Fatal(err)
			}
			waitDone(t, d, time.Second)
			if !errors.Is(d.Err(), ErrRemoteBye) || e.srv.Dialog(d.CallID()) != nil {
				t.Errorf("Err %v", d.Err())
			}
			if err := d.Bye(ctxTimeout(t, time.Second)); err != nil {
				t.Errorf("Bye after the device's: %v", err)
			}
			if err := d.Info(ctxTimeout(t, time.Second), MANSRTSPPause()); !errors.Is(err, ErrDialogEnded) || !errors.Is(err, ErrRemoteBye) {
				t.Errorf("Info after the end: %v", err)
			}
			n := 0
			for _, in := range e.sim.Received() {
				if in.Method == "BYE" {
					n++
				}
			}
			if n != 0 {
				t.Errorf("the platform sent %d BYEs", n)
			}
		})
	}
}

// INFO bodies reach the simulator's media session, numbered 1, 2, 3… in
// the dialog whatever CSeq the body had.
func TestInfo(t *testing.T) {
	for _, sig := range signalling {
		t.Run(sig, func(t *testing.T) {
			e := newInviteEnv(t, sig, gbsim.Quirks{}, nil)
			d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlayback))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Bye(context.Background())
			sess := e.media.session(t, 0)
			ctx := ctxTimeout(t, 5*time.Second)
			for _, body := range [][]byte{
				MANSRTSPPlay(2, -1), MANSRTSPPause(), MANSRTSPPlay(0, 90), MANSRTSPPlay(0, -1),
				mansrtsp.Speed(77, 0.5),
			} {
				if err := d.Info(ctx, body); err != nil {
					t.Fatal(err)
				}
			}
			sess.waitOps(t, "begin", "play 2", "pause", "seek 1m30s", "play 0", "play 0", "play 0.5")
			c := e.call(t, d.CallID(), "infos", func(c gbsim.Call) bool { return len(c.Infos) == 5 })
			for i, in := range c.Infos {
				if in.Err != nil || in.Request.CSeq != i+1 {
					t.Errorf("INFO %d: %+v %v\n%s", i, in.Request, in.Err, in.Body)
				}
			}
			if r := c.Infos[3].Request; !r.Now || r.Method != mansrtsp.MethodPlay {
				t.Errorf("resume %+v", r)
			}
		})
	}
}

// At the end of a playback the device reports MediaStatus 121 in the
// dialog (the INVITE's Call-ID), then sends BYE; by quirk it reports out of
// the dialog, or sends no BYE.
func TestMediaStatusEndOfFile(t *testing.T) {
	for _, c := range []struct {
		name  string
		q     gbsim.Quirks
		inDlg bool
	}{
		{"in dialog, then BYE", gbsim.Quirks{}, true},
		{"out of dialog, then BYE", gbsim.Quirks{MediaStatusOutOfDialog: true}, false},
		{"in dialog, no BYE", gbsim.Quirks{NoByeAtEnd: true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newInviteEnv(t, "udp", c.q, nil)
			d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlayback))
			if err != nil {
				t.Fatal(err)
			}
			sess := e.media.session(t, 0)
			sess.waitOps(t, "begin")
			sess.finish()
			m := e.mediaStatus(t)
			if (m.CallID == d.CallID()) != c.inDlg || m.DeviceID != e.sim.ID() || !m.Registered ||
				!strings.Contains(string(m.Body), "<NotifyType>121</NotifyType>") {
				t.Errorf("MediaStatus %+v, dialog %s\n%s", m, d.CallID(), m.Body)
			}
			// What the platform does with it: find the dialog and end it.
			found := e.srv.Dialog(m.CallID)
			if !c.inDlg {
				if found != nil {
					t.Error("out-of-dialog Call-ID matched a dialog")
				}
				if ds := e.srv.Dialogs(m.DeviceID); len(ds) == 1 {
					found = ds[0]
				}
			}
			if c.q.NoByeAtEnd {
				if found != d {
					t.Fatalf("dialog %v not found", found)
				}
				found.End(errors.New("end of file"))
				waitDone(t, d, time.Second)
				if err := d.Bye(ctxTimeout(t, 5*time.Second)); err != nil {
					t.Fatal(err)
				}
				e.call(t, d.CallID(), "ended by the platform", func(c gbsim.Call) bool { return c.ByePlatform && c.MediaStatusSent })
				return
			}
			waitDone(t, d, 5*time.Second)
			if !errors.Is(d.Err(), ErrRemoteBye) {
				t.Errorf("Err %v", d.Err())
			}
			e.call(t, d.CallID(), "ended by the device", func(c gbsim.Call) bool { return c.ByeDevice && c.MediaStatusSent })
		})
	}
}

// Over UDP a retransmitted 200 (its ACK lost) is ACKed again.
func TestAckRetransmission(t *testing.T) {
	e := newInviteEnv(t, "udp", gbsim.Quirks{DropACKs: 2}, nil)
	d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Bye(context.Background())
	// T1 = 500 ms: the 200 is retransmitted at 0.5 s and 1.5 s.
	c := e.call(t, d.CallID(), "confirmed after dropped ACKs", func(c gbsim.Call) bool { return c.Confirmed })
	if c.Acks != 3 {
		t.Errorf("ACKs %d, want 3", c.Acks)
	}
	if d.tx.AcksResent() < 2 {
		t.Errorf("ACK re-sent %d times", d.tx.AcksResent())
	}
	e.media.session(t, 0).waitOps(t, "begin")
}

// BYE and INFO for a Call-ID no dialog has are answered 481.
func TestUnknownDialog481(t *testing.T) {
	s, _ := newTestServer(t, nil)
	raw := newRawUDP(t, s.Addr())
	for _, method := range []string{"BYE", "INFO"} {
		raw.send([]byte(method + " sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bK-" + method + "\r\n" +
			"From: <sip:34020000001320000001@3402000000>;tag=a\r\nTo: <sip:34020000002000000001@3402000000>;tag=b\r\n" +
			"Call-ID: nosuchcall\r\nCSeq: 2 " + method + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"))
		if res := raw.read(2 * time.Second); !strings.HasPrefix(res, "SIP/2.0 481 ") {
			t.Errorf("%s: %q", method, res)
		}
	}
}

// Close ends every dialog with a BYE.
func TestCloseByesDialogs(t *testing.T) {
	e := newInviteEnv(t, "tcp", gbsim.Quirks{}, nil)
	var ds []*Dialog
	for range 2 {
		d, err := e.srv.Invite(ctxTimeout(t, 5*time.Second), e.request(ModePlay))
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		waitDone(t, d, time.Second)
		e.call(t, d.CallID(), "ended by Close", func(c gbsim.Call) bool { return c.ByePlatform })
	}
	if _, err := e.srv.Invite(ctxTimeout(t, time.Second), e.request(ModePlay)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invite after Close: %v", err)
	}
}

func TestInviteErrors(t *testing.T) {
	e := newInviteEnv(t, "udp", gbsim.Quirks{}, nil)
	ctx := ctxTimeout(t, 5*time.Second)
	for _, mutate := range []func(*InviteRequest){
		func(r *InviteRequest) { r.DeviceID = "" },
		func(r *InviteRequest) { r.Mode = "Live" },
		func(r *InviteRequest) { r.Mode = ModePlayback; r.Start = time.Time{} },
		func(r *InviteRequest) { r.Mode = ModeDownload; r.End = r.Start },
		func(r *InviteRequest) { r.Transport = "SCTP" },
		func(r *InviteRequest) { r.Transport = "TCP"; r.Setup = "actpass" },
		func(r *InviteRequest) { r.Port = 0 },
		func(r *InviteRequest) { r.IP = "" },
		func(r *InviteRequest) { r.SSRC = "12ab" },
		func(r *InviteRequest) { r.ChannelID = "a b" },
		func(r *InviteRequest) { r.StreamNumber = -1 },
	} {
		r := e.request(ModePlay)
		r.Start, r.End = time.Unix(1700000000, 0), time.Unix(1700000600, 0)
		mutate(&r)
		if _, err := e.srv.Invite(ctx, r); !errors.Is(err, ErrBadInvite) {
			t.Errorf("%+v: %v", r, err)
		}
	}
	r := e.request(ModePlay)
	r.DeviceID = gbsim.MakeID(132, 404)
	if _, err := e.srv.Invite(ctx, r); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("unregistered: %v", err)
	}
	if len(e.sim.Calls()) != 0 {
		t.Error("an INVITE was sent")
	}
}

func TestNewSSRC(t *testing.T) {
	s := &Server{Domain: "3402000000"}
	seen := map[string]bool{}
	for range 10 {
		live, hist := s.NewSSRC(false), s.NewSSRC(true)
		for _, x := range []string{live, hist} {
			if len(x) != 10 || x[1:6] != "20000" || seen[x] {
				t.Errorf("SSRC %q", x)
			}
			if _, ok := sdp.ParseSSRC(x); !ok {
				t.Errorf("SSRC %q does not parse", x)
			}
			seen[x] = true
		}
		if live[0] != '0' || hist[0] != '1' {
			t.Errorf("live %q, history %q", live, hist)
		}
	}
	// Sequence numbers used by active calls are skipped.
	next := s.NewSSRC(false)
	seq := next[6:]
	d := &Dialog{req: InviteRequest{SSRC: "020000" + nextSeq(seq, 1)}}
	s.dialogs.reserve(d)
	if got := s.NewSSRC(false); got == d.req.SSRC || got[6:] != nextSeq(seq, 2) {
		t.Errorf("got %s after %s with %s in use", got, next, d.req.SSRC)
	}
	s.dialogs.remove(d)
	if (&Server{Domain: "x"}).NewSSRC(true)[:6] != "100000" {
		t.Error("odd domain")
	}
}

func nextSeq(seq string, n int) string {
	v := 0
	for _, c := range seq {
		v = v*10 + int(c-'0')
	}
	v = (v + n) % 10000
	return string([]byte{byte('0' + v/1000), byte('0' + v/100%10), byte('0' + v/10%10), byte('0' + v%10)})
}

func TestRenumberMANSRTSP(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"PLAY RTSP/1.0\r\nCSeq: 0\r\nScale: 2.0\r\n", "PLAY RTSP/1.0\r\nCSeq: 7\r\nScale: 2.0\r\n"},
		{"PAUSE RTSP/1.0\ncseq:3\nPauseTime: now\n", "PAUSE RTSP/1.0\nCSeq: 7\r\nPauseTime: now\n"},
		{"PLAY RTSP/1.0\r\nRange: npt=now-\r\n", "PLAY RTSP/1.0\r\nCSeq: 7\r\nRange: npt=now-\r\n"},
		{"PLAY RTSP/1.0", "PLAY RTSP/1.0"},
	} {
		if got := string(renumberMANSRTSP([]byte(c.in), 7)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	if got := string(MANSRTSPPlay(0, 12.5)); got != "PLAY RTSP/1.0\r\nCSeq: 0\r\nRange: npt=12.5-\r\n" {
		t.Errorf("seek %q", got)
	}
}
