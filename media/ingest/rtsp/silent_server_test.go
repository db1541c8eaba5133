package rtsp

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"

	"github.com/nvr/nvr/media/stream"
	"github.com/nvr/nvr/media/testsrc"
)

// silentServer is an RTSP server on 127.0.0.1 that describes, sets up and
// plays a stream but never sends a packet: a camera whose encoder hung.
type silentServer struct {
	srv    *gortsplib.Server
	stream *gortsplib.ServerStream
}

func newSilentServer(t *testing.T, medias ...*description.Media) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{}
	s.srv = &gortsplib.Server{
		Handler:     s,
		RTSPAddress: ln.Addr().String(),
		Listen:      func(string, string) (net.Listener, error) { return ln, nil },
	}
	if err := s.srv.Start(); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	s.stream = &gortsplib.ServerStream{Server: s.srv, Desc: &description.Session{Medias: medias}}
	if err := s.stream.Initialize(); err != nil {
		s.srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stream.Close()
		s.srv.Close()
	})
	return "rtsp://" + ln.Addr().String() + "/cam"
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (s *silentServer) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, s.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (s *silentServer) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusOK}, s.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (s *silentServer) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func TestSourceSilentCamera(t *testing.T) {
	t.Parallel()
	clip := loadVideo(t, testsrc.ClipH264)
	url := newSilentServer(t, &description.Media{
		Type:    description.MediaTypeVideo,
		Formats: []format.Format{&format.H264{PayloadTyp: 96, SPS: clip.SPS, PPS: clip.PPS, PacketizationMode: 1}},
	})
	var logs logBuffer
	src := testSource(url, TransportTCP, &logs)
	src.ReadTimeout = time.Second
	r := start(t, src)
	ev := r.states.wait(t, stream.StateError, 1)
	// Whichever notices first: our media watchdog or gortsplib's own timeout.
	if ev.err == nil || !errors.Is(ev.err, ErrNoMedia) && !errors.As(ev.err, new(liberrors.ErrClientTCPTimeout)) {
		t.Errorf("error = %v, want no media / TCP timeout", ev.err)
	}
	for _, e := range r.states.snapshot() {
		if e.state == stream.StateOnline {
			t.Error("a silent camera was reported online")
		}
	}
	// The track was declared from the SDP all the same.
	if tr := r.st.Tracks(); len(tr) != 1 || tr[0].Width != 320 {
		t.Errorf("stream tracks = %v", tr)
	}
}

func TestSourceNoSupportedTrack(t *testing.T) {
	t.Parallel()
	url := newSilentServer(t,
		&description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{&format.MJPEG{}}},
		&description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{&format.Opus{PayloadTyp: 111, ChannelCount: 2}}},
	)
	var logs logBuffer
	r := start(t, testSource(url, TransportTCP, &logs))
	ev := r.states.wait(t, stream.StateError, 1)
	if !errors.Is(ev.err, ErrNoTracks) || !strings.Contains(ev.err.Error(), "M-JPEG, Opus") {
		t.Errorf("error = %v, want no supported track naming what the camera offers", ev.err)
	}
	if out := logs.String(); !strings.Contains(out, "ignoring medium") {
		t.Errorf("ignored media not logged:\n%s", out)
	}
}
