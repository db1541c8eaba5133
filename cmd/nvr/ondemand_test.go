package main

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nvr/nvr/media/testsrc"
)

// TestOnDemand checks that a channel pulls from its camera only while
// someone watches, and all the time once it is always-on.
func TestOnDemand(t *testing.T) {
	t.Parallel()
	src := newSource(t, testsrcConfig(), "cam", testsrc.ClipH264, testsrc.ClipAAC)
	ta := startApp(t)
	_, ch := ta.addDevice("cam", src.URL("cam"))

	// Nobody watches: the camera is left alone. Sampled over several idle
	// timeouts, since a wrongly started stream would show up at once.
	for end := time.Now().Add(4 * idleTimeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if n := src.Sessions(); n != 0 {
			t.Fatalf("%d RTSP sessions before any viewer", n)
		}
	}
	if c := ta.channel(ch.ID); c.Status != "idle" {
		t.Fatalf("status %q before any viewer", c.Status)
	}
	if _, ok := ta.streamInfo(ch.Stream); ok {
		t.Fatal("stream listed as running before any viewer")
	}

	// A viewer starts the stream.
	resp := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("FLV status %d", resp.StatusCode)
	}
	readFLV(t, resp.Body, flvWant{video: "H264", audio: "AAC"}, 100)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	eventually(t, "one RTSP session", func() bool { return src.Sessions() == 1 }, nil)
	ta.waitChannel(ch.ID, "status online", func(c channelJSON) bool { return c.Status == "online" })
	if s, ok := ta.streamInfo(ch.Stream); !ok || s.Readers != 1 || s.AlwaysOn {
		t.Errorf("stream while watched: %+v (listed %v)", s, ok)
	}
	// A second viewer shares the session.
	resp2 := ta.send("GET", ch.Play.FLV+"?token="+ta.token, "", nil)
	readFLV(t, resp2.Body, flvWant{video: "H264", audio: "AAC"}, 100)
	if n := src.Sessions(); n != 1 {
		t.Errorf("%d RTSP sessions with two viewers, want 1", n)
	}
	resp2.Body.Close()

	// The viewers leave: the stream stops after the idle timeout.
	resp.Body.Close()
	<-drained
	eventually(t, "no RTSP session after the viewer left", func() bool { return src.Sessions() == 0 }, func() string {
		return fmt.Sprintf("%d sessions", src.Sessions())
	})
	ta.waitChannel(ch.ID, "status idle", func(c channelJSON) bool { return c.Status == "idle" })
	eventually(t, "the stream to leave the list", func() bool {
		_, ok := ta.streamInfo(ch.Stream)
		return !ok
	}, nil)

	// Always-on: the stream runs without viewers.
	var patched channelJSON
	ta.api("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch.ID), map[string]bool{"always_on": true}, http.StatusOK, &patched)
	if !patched.AlwaysOn {
		t.Fatalf("PATCH always_on: %+v", patched)
	}
	eventually(t, "an RTSP session without viewers", func() bool { return src.Sessions() == 1 }, nil)
	ta.waitChannel(ch.ID, "always-on status online", func(c channelJSON) bool { return c.Status == "online" && c.AlwaysOn })
	if s, ok := ta.streamInfo(ch.Stream); !ok || !s.AlwaysOn || s.Readers != 0 {
		t.Errorf("always-on stream: %+v (listed %v)", s, ok)
	}
	var d deviceJSON
	ta.api("GET", fmt.Sprintf("/api/v1/devices/%d", ch.DeviceID), nil, http.StatusOK, &d)
	if d.Status != "online" || !d.AlwaysOn {
		t.Errorf("device of an always-on channel: %+v", d)
	}
	// It stays up past the idle timeout.
	time.Sleep(3 * idleTimeout)
	if n := src.Sessions(); n != 1 {
		t.Errorf("%d RTSP sessions on an always-on channel after the idle timeout", n)
	}

	// Back to on demand: with no viewer the stream stops.
	ta.api("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch.ID), map[string]bool{"always_on": false}, http.StatusOK, nil)
	eventually(t, "no RTSP session once on demand again", func() bool { return src.Sessions() == 0 }, nil)
	ta.waitChannel(ch.ID, "status idle again", func(c channelJSON) bool { return c.Status == "idle" && !c.AlwaysOn })
}
