package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/cmd/gbsim/simmedia"
	"github.com/nvr/nvr/config"
	"github.com/nvr/nvr/media/testsrc/gbmedia"
	"github.com/nvr/nvr/sip/gbsim"
)

// The GB28181 media tests run the app against simulated devices that answer
// INVITEs and send the test clips as PS over RTP (media/testsrc/gbmedia),
// over real UDP and TCP on 127.0.0.1.

// gbMediaConfig shortens the media timers of the GB apps.
func gbMediaConfig(c *config.Config) {
	c.SIP.InviteTimeout = config.Duration(3 * time.Second)
	c.RTP.NoMediaTimeout = config.Duration(3 * time.Second)
}

// gbCamera is a registered simulated camera that streams.
type gbCamera struct {
	dev    *gbsim.Device
	sender *gbmedia.Sender
	devID  int64
	chID   int64 // the API ID of its (first) video channel
}

// camera starts a simulated device sending clips with the given quirks,
// registers it, keeps it alive, waits for its catalog and sets its stream
// transport.
func (e *gbEnv) camera(t *testing.T, serial int, transport, clips string, q gbmedia.Quirks, mutate func(*gbsim.Config)) *gbCamera {
	t.Helper()
	s := &gbmedia.Sender{Clips: clips, Quirks: q, BindIP: "127.0.0.1"}
	t.Cleanup(s.Close)
	d := e.sim(t, serial, func(c *gbsim.Config) {
		c.Media = simmedia.Adapt(s)
		if mutate != nil {
			mutate(c)
		}
	})
	register(t, d)
	keepalives(t, d)
	dev := e.waitDevice(t, d.ID(), "device online", func(x gbDeviceJSON) bool { return x.Online })
	chans := e.waitChannels(t, dev.ID, "catalog", func(m map[string]gbChannelJSON) bool { return len(m) > 0 })
	ch, ok := chans[d.ChannelID(1)]
	if !ok {
		t.Fatalf("channel %s not in the catalog: %v", d.ChannelID(1), chans)
	}
	if transport != "" {
		e.with(t).api("PATCH", fmt.Sprintf("/api/v1/devices/%d", dev.ID), map[string]any{"stream_transport": transport}, http.StatusOK, nil)
	}
	return &gbCamera{dev: d, sender: s, devID: dev.ID, chID: ch.ID}
}

// openFLV opens a play URL and returns its body, closed when the test ends.
func (e *gbEnv) openFLV(t *testing.T, path string) io.ReadCloser {
	t.Helper()
	res, err := e.http.Get(e.playURL(path))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res.Body
}

// waitCall waits for a call of the camera that satisfies ok.
func (c *gbCamera) waitCall(t *testing.T, what string, ok func(gbsim.Call) bool) gbsim.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	call, err := c.dev.WaitCall(ctx, ok)
	if err != nil {
		t.Fatalf("waiting for %s: %v (calls %+v)", what, err, c.dev.Calls())
	}
	return call
}

func TestGBLive(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	for i, tr := range []string{"udp", "tcp-passive", "tcp-active"} {
		t.Run(tr, func(t *testing.T) {
			cam := e.camera(t, 100+i, tr, gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, nil)
			name := fmt.Sprintf("ch%d", cam.chID)
			body := e.openFLV(t, "/live/"+name+".flv")
			s := readFLV(t, body, flvWant{video: "H264", audio: "PCMA"}, 3000)
			if s.audioTags < 50 {
				t.Errorf("%d audio tags in 3 s", s.audioTags)
			}
			call := cam.waitCall(t, "a confirmed call", func(c gbsim.Call) bool { return c.Confirmed })
			if call.Offer.Mode() != "Play" || call.Media.Transport != tr {
				t.Errorf("call mode %q transport %q, want Play %s", call.Offer.Mode(), call.Media.Transport, tr)
			}
			in := e.with(t).ingest(name)
			if in.Protocol != "gb28181" || in.Transport != tr || in.Packets == 0 || in.SSRC != call.AnswerSSRC {
				t.Errorf("ingest %+v, want gb28181 over %s with SSRC %s", in, tr, call.AnswerSSRC)
			}

			// A second viewer shares the call.
			second := e.openFLV(t, "/live/"+name+".flv")
			readFLV(t, second, flvWant{video: "H264", audio: "PCMA"}, 500)
			if n := len(cam.dev.Calls()); n != 1 {
				t.Errorf("%d calls for two viewers", n)
			}
			second.Close()
			body.Close()
			ended := cam.waitCall(t, "BYE after the idle delay", func(c gbsim.Call) bool { return c.ByePlatform })
			if ended.ByeDevice {
				t.Error("the device sent BYE too")
			}
		})
	}
}

// ingestJSON is the ingest part of GET /streams.
type ingestJSON struct {
	Protocol  string `json:"protocol"`
	Transport string `json:"transport"`
	SSRC      string `json:"ssrc"`
	Packets   uint64 `json:"packets"`
	Lost      uint64 `json:"lost"`
}

// ingest returns the ingest of a running stream.
func (ta *testApp) ingest(name string) ingestJSON {
	ta.t.Helper()
	var l list[struct {
		Name   string      `json:"name"`
		Ingest *ingestJSON `json:"ingest"`
	}]
	ta.api("GET", "/api/v1/streams", nil, http.StatusOK, &l)
	for _, s := range l.Items {
		if s.Name == name && s.Ingest != nil {
			return *s.Ingest
		}
	}
	ta.t.Fatalf("stream %s with ingest not listed", name)
	return ingestJSON{}
}

func TestGBQuirks(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	cases := []struct {
		name, transport, clips string
		quirks                 gbmedia.Quirks
		sim                    func(*gbsim.Config)
		want                   flvWant
	}{
		{name: "own SSRC", transport: "udp", clips: gbmedia.ClipSetH264G711A,
			sim: func(c *gbsim.Config) { c.Quirks.OwnSSRC = true }, want: flvWant{"H264", "PCMA"}},
		{name: "zero SSRC", transport: "tcp-passive", clips: gbmedia.ClipSetH264G711A,
			sim: func(c *gbsim.Config) { c.Quirks.ZeroSSRC = true }, want: flvWant{"H264", "PCMA"}},
		{name: "no PSM, H.265 declared as H.264", transport: "udp", clips: gbmedia.ClipSetH265AAC,
			quirks: gbmedia.Quirks{NoPSM: true, H265AsH264: true}, want: flvWant{"H265", "AAC"}},
		{name: "H.265 as H.264 with private PES and marker first", transport: "tcp-active", clips: gbmedia.ClipSetH265AAC,
			quirks: gbmedia.Quirks{H265AsH264: true, PrivateStream: true, MarkerFirst: true, HeaderExtension: true}, want: flvWant{"H265", "AAC"}},
		{name: "5% loss and reordering", transport: "udp", clips: gbmedia.ClipSetH264G711A,
			quirks: gbmedia.Quirks{Loss: 0.05, Reorder: 0.05}, want: flvWant{"H264", "PCMA"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cam := e.camera(t, 200+i, tc.transport, tc.clips, tc.quirks, tc.sim)
			name := fmt.Sprintf("ch%d", cam.chID)
			body := e.openFLV(t, "/live/"+name+".flv")
			// The stream goes on past its first GOP: a second keyframe comes
			// (one a second, so within the 4 s read of a clean stream). With
			// loss, a keyframe that loses a packet is dropped with its GOP,
			// and whether the next few all do is chance: wait for it.
			stop := time.AfterFunc(waitTimeout, func() { body.Close() })
			readFLVKeys(t, body, tc.want, 4000, 2)
			stop.Stop()
			// The answer's SSRC is the one that carries the media: the
			// stream above only plays if the platform honoured it.
			call := cam.waitCall(t, "a confirmed call", func(c gbsim.Call) bool { return c.Confirmed })
			if tc.sim != nil && call.AnswerSSRC == call.Offer.SSRC {
				t.Errorf("the device answered the offered SSRC %s: the quirk did not apply", call.AnswerSSRC)
			}
			if tc.quirks.Loss > 0 {
				if in := e.with(t).ingest(name); in.Lost == 0 {
					t.Errorf("no loss counted with 5%% loss: %+v", in)
				}
			}
		})
	}
}

func TestGBDeviceEndsStream(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	cam := e.camera(t, 300, "udp", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, nil)
	body := e.openFLV(t, fmt.Sprintf("/live/ch%d.flv", cam.chID))
	readFLV(t, body, flvWant{"H264", "PCMA"}, 500)
	call := cam.waitCall(t, "a confirmed call", func(c gbsim.Call) bool { return c.Confirmed })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cam.dev.Bye(ctx, call.CallID); err != nil {
		t.Fatal(err)
	}
	// The live source asks again after the device's BYE, but this viewer's
	// stream ended: it reads to EOF instead of hanging.
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, body)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("the viewer still reads after the device's BYE")
	}
}

func TestGBInviteErrors(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	busy := e.camera(t, 400, "udp", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, func(c *gbsim.Config) {
		c.Quirks.InviteStatus = 486
	})
	status, body := e.do("GET", fmt.Sprintf("/live/ch%d.flv", busy.chID), e.token, nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "486") {
		t.Errorf("device answering 486: %d %s", status, body)
	}

	silent := e.camera(t, 401, "udp", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, func(c *gbsim.Config) {
		c.Quirks.InviteDelay = 20 * time.Second // longer than sip.invite_timeout
	})
	start := time.Now()
	status, body = e.do("GET", fmt.Sprintf("/live/ch%d.flv", silent.chID), e.token, nil)
	if status != http.StatusServiceUnavailable {
		t.Errorf("silent device: %d %s", status, body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the viewer waited %v for a silent device", d)
	}
	silent.waitCall(t, "CANCEL", func(c gbsim.Call) bool { return c.Cancelled })
}

// startPlayback opens a playback session of the camera's channel.
func (e *gbEnv) startPlayback(t *testing.T, cam *gbCamera, start, end time.Time) playbackJSON {
	t.Helper()
	var pb playbackJSON
	e.with(t).api("POST", fmt.Sprintf("/api/v1/channels/%d/playback", cam.chID),
		map[string]any{"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)}, http.StatusCreated, &pb)
	if pb.Session == "" || pb.Play.FLV == "" {
		t.Fatalf("playback answer %+v", pb)
	}
	return pb
}

type playbackJSON struct {
	Session string `json:"session"`
	Stream  string `json:"stream"`
	Play    struct {
		FLV string `json:"flv"`
	} `json:"play"`
}

// session returns the sender's only session.
func (c *gbCamera) session(t *testing.T) *gbmedia.Session {
	t.Helper()
	var s []*gbmedia.Session
	eventually(t, "a media session", func() bool { s = c.sender.Sessions(); return len(s) == 1 }, nil)
	return s[0]
}

func TestGBPlayback(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	cam := e.camera(t, 500, "udp", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, nil)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	pb := e.startPlayback(t, cam, start, start.Add(10*time.Minute))
	call := cam.waitCall(t, "a playback call", func(c gbsim.Call) bool { return c.Confirmed })
	if call.Offer.Mode() != "Playback" || !call.Media.Start.Equal(start) || !call.Media.End.Equal(start.Add(10*time.Minute)) {
		t.Errorf("offer %s %v-%v, want Playback of the range", call.Offer.Mode(), call.Media.Start, call.Media.End)
	}
	body := e.openFLV(t, pb.Play.FLV)
	readFLV(t, body, flvWant{"H264", "PCMA"}, 1000)
	sess := cam.session(t)

	control := func(req map[string]any) {
		t.Helper()
		e.api("POST", "/api/v1/playback/"+pb.Session+"/control", req, http.StatusNoContent, nil)
	}
	control(map[string]any{"action": "pause"})
	eventually(t, "paused", func() bool { return sess.Stats().Paused }, nil)
	control(map[string]any{"action": "resume"})
	eventually(t, "resumed", func() bool { return !sess.Stats().Paused }, nil)
	control(map[string]any{"action": "speed", "scale": 2})
	eventually(t, "2x", func() bool { return sess.Stats().Scale == 2 }, nil)
	before := sess.Stats().Position
	control(map[string]any{"action": "seek", "position": 300})
	eventually(t, "seek to 300 s", func() bool {
		s := sess.Stats()
		return s.Seeks == 1 && s.Position >= 300*time.Second && s.Position > before
	}, func() string { return fmt.Sprintf("%+v", sess.Stats()) })
	call = cam.waitCall(t, "four INFOs", func(c gbsim.Call) bool { return len(c.Infos) == 4 })
	for i, in := range call.Infos {
		if in.Err != nil {
			t.Errorf("INFO %d: %v\n%s", i, in.Err, in.Body)
		}
	}

	status, b := e.do("POST", "/api/v1/playback/"+pb.Session+"/control", e.token, map[string]any{"action": "speed", "scale": 16})
	wantError(t, "scale 16", status, b, http.StatusBadRequest, "bad_request")

	e.api("DELETE", "/api/v1/playback/"+pb.Session, nil, http.StatusNoContent, nil)
	cam.waitCall(t, "BYE", func(c gbsim.Call) bool { return c.ByePlatform })
	status, b = e.do("GET", "/api/v1/playback/"+pb.Session, e.token, nil)
	wantError(t, "ended session", status, b, http.StatusNotFound, "not_found")
	if _, err := io.Copy(io.Discard, body); err != nil {
		t.Logf("viewer after DELETE: %v", err)
	}
}

func TestGBPlaybackEnd(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	cam := e.camera(t, 510, "tcp-passive", gbmedia.ClipSetH265AAC, gbmedia.Quirks{}, nil)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	pb := e.startPlayback(t, cam, start, start.Add(3*time.Second))
	body := e.openFLV(t, pb.Play.FLV)
	readFLV(t, body, flvWant{"H265", "AAC"}, 1000)
	// The device reaches the end, says so (MediaStatus 121) and hangs up:
	// the viewer reads to the end of the stream.
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, body)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("the viewer still reads after the end of the playback")
	}
	call := cam.waitCall(t, "MediaStatus 121", func(c gbsim.Call) bool { return c.MediaStatusSent && c.Ended })
	if !call.ByePlatform && !call.ByeDevice {
		t.Errorf("call ended without BYE: %+v", call)
	}
	eventually(t, "the session forgotten", func() bool {
		status, _ := e.do("GET", "/api/v1/playback/"+pb.Session, e.token, nil)
		return status == http.StatusNotFound
	}, nil)
}

func TestGBDownload(t *testing.T) {
	e := startGB(t, gbMediaConfig)
	cam := e.camera(t, 520, "tcp-active", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, nil)
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	const span = 6 * time.Second
	var d downloadJSON
	e.api("POST", fmt.Sprintf("/api/v1/channels/%d/download", cam.chID),
		map[string]any{"start": start.Format(time.RFC3339), "end": start.Add(span).Format(time.RFC3339), "speed": 4},
		http.StatusAccepted, &d)
	call := cam.waitCall(t, "a download call", func(c gbsim.Call) bool { return c.Confirmed })
	if call.Offer.Mode() != "Download" || call.Media.DownloadSpeed != 4 {
		t.Errorf("offer %s speed %d, want Download at 4", call.Offer.Mode(), call.Media.DownloadSpeed)
	}
	status, b := e.do("GET", d.URL, e.token, nil)
	wantError(t, "file of a running download", status, b, http.StatusConflict, "conflict")
	eventually(t, "download done", func() bool {
		e.api("GET", "/api/v1/downloads/"+d.ID, nil, http.StatusOK, &d)
		return d.State != "running"
	}, func() string { return fmt.Sprintf("%+v", d) })
	if d.State != "done" || d.Progress != 1 || d.Bytes == 0 {
		t.Fatalf("download %+v", d)
	}
	status, file := e.do("GET", d.URL, e.token, nil)
	if status != http.StatusOK || int64(len(file)) != d.Bytes {
		t.Fatalf("file: %d, %d bytes of %d", status, len(file), d.Bytes)
	}
	// A progressive MP4 of the range, with the G.711 audio (stored as PCM).
	got := parseExport(t, file)
	if got.duration < span-time.Second || got.duration > span+time.Second {
		t.Errorf("MP4 of %v for a %v range", got.duration, span)
	}
	if !got.firstIDR || !got.hasAudio || got.width != 320 {
		t.Errorf("MP4 %+v: want a 320-pixel video starting on an IDR, with audio", got)
	}
}

type downloadJSON struct {
	ID       string  `json:"id"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
	Bytes    int64   `json:"bytes"`
	Error    string  `json:"error"`
	URL      string  `json:"url"`
}

func TestGBSinglePort(t *testing.T) {
	port := freeUDPPort(t)
	e := startGB(t, gbMediaConfig, func(c *config.Config) { c.RTP.SinglePort = port })
	a := e.camera(t, 600, "udp", gbmedia.ClipSetH264G711A, gbmedia.Quirks{}, nil)
	b := e.camera(t, 601, "udp", gbmedia.ClipSetH265AAC, gbmedia.Quirks{}, nil)
	// Both streams arrive on the one port, told apart by SSRC.
	ba := e.openFLV(t, fmt.Sprintf("/live/ch%d.flv", a.chID))
	bb := e.openFLV(t, fmt.Sprintf("/live/ch%d.flv", b.chID))
	readFLV(t, ba, flvWant{"H264", "PCMA"}, 2000)
	readFLV(t, bb, flvWant{"H265", "AAC"}, 2000)
	for _, cam := range []*gbCamera{a, b} {
		call := cam.waitCall(t, "a confirmed call", func(c gbsim.Call) bool { return c.Confirmed })
		if !strings.Contains(call.Media.RemoteAddr, fmt.Sprintf(":%d", port)) {
			t.Errorf("media sent to %s, want the single port %d", call.Media.RemoteAddr, port)
		}
	}
}

// freeUDPPort returns a UDP port free on 127.0.0.1 outside the RTP range.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	return u.LocalAddr().(*net.UDPAddr).Port
}
