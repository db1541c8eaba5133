package onvif

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/nvr/nvr/device/onvif/onvifsim"
	"github.com/nvr/nvr/media/testsrc"
)

// ops returns the operations the simulator received, in order.
func ops(sim *onvifsim.Server) []string {
	var out []string
	for _, r := range sim.Requests() {
		out = append(out, r.Op)
	}
	return out
}

// TestProbeMedia2 onboards a Profile T camera of each vendor whose main
// stream is H.265 and listed by Media2 only: the probe sees it with its
// codec and size, and its stream URI plays H.265.
func TestProbeMedia2(t *testing.T) {
	checkGoroutines(t)
	rtsp, err := testsrc.NewServer(testsrc.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rtsp.Close)
	h265, err := testsrc.LoadVideo(testsrc.ClipH265)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range onvifsim.Vendors {
		t.Run(string(v), func(t *testing.T) {
			sim := newSim(t, onvifsim.Config{Vendor: v, Media2: true, Profiles: onvifsim.H265Profiles(), RTSPURL: rtsp.URL(string(v) + "/{token}")})
			d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
			if err != nil {
				t.Fatal(err)
			}
			if !d.Media2 || d.Media2XAddr == "" {
				t.Fatalf("Media2 not used: %+v", d)
			}
			if len(d.Profiles) != 2 {
				t.Fatalf("%d profiles, want the H.265 main and the H.264 sub", len(d.Profiles))
			}
			main, sub := d.Profiles[0], d.Profiles[1]
			if main.Role != RoleMain || main.Codec != CodecH265 || main.Width != 2560 || main.Height != 1440 || main.FPS != 25 ||
				main.StreamURI != rtsp.URL(string(v)+"/"+main.Token) || main.SnapshotURI == "" || !main.PTZ {
				t.Errorf("main %+v", main)
			}
			if sub.Role != RoleSub || sub.Codec != CodecH264 || sub.Width != 640 || sub.StreamURI != rtsp.URL(string(v)+"/"+sub.Token) {
				t.Errorf("sub %+v", sub)
			}
			got := ops(sim)
			for _, op := range []string{"GetServices", onvifsim.Media2Op("GetProfiles"), onvifsim.Media2Op("GetStreamUri"), onvifsim.Media2Op("GetSnapshotUri")} {
				if !slices.Contains(got, op) {
					t.Errorf("no %s in %v", op, got)
				}
			}
			for _, op := range []string{"GetProfiles", "GetStreamUri", "GetSnapshotUri"} {
				if slices.Contains(got, op) {
					t.Errorf("Media (ver10) %s asked although Media2 answered: %v", op, got)
				}
			}

			rtsp.AddStream(string(v)+"/"+main.Token, h265, nil)
			var track *format.H265
			if describe(t, main.StreamURI).FindFormat(&track) == nil {
				t.Fatalf("%s has no H.265 track", main.StreamURI)
			}
		})
	}
}

// TestProbeMedia2Fallback: whatever goes wrong with Media2 short of the
// device going away, the probe reads Media (ver10) instead, or keeps the
// profile without the URI Media2 refused.
func TestProbeMedia2Fallback(t *testing.T) {
	checkGoroutines(t)
	notSupported := onvifsim.Misbehaviour{Fault: &onvifsim.Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "Optional Action Not Implemented"}}
	cases := []struct {
		name   string
		op     string
		m      onvifsim.Misbehaviour
		media2 bool   // profiles read through Media2
		tokens string // the profiles seen, main first
		noURI  bool   // the H.265 main has no stream URI
	}{
		{"GetProfiles not supported", onvifsim.Media2Op("GetProfiles"), notSupported, false, "Profile_2", false},
		{"GetProfiles HTML 404", onvifsim.Media2Op("GetProfiles"), onvifsim.Misbehaviour{Status: 404, Body: "<html>Not Found</html>", ContentType: "text/html"}, false, "Profile_2", false},
		{"GetProfiles garbage", onvifsim.Media2Op("GetProfiles"), onvifsim.Misbehaviour{Body: "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><tr2:GetProfilesRe"}, false, "Profile_2", false},
		{"GetProfiles empty", onvifsim.Media2Op("GetProfiles"), onvifsim.Misbehaviour{Body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tr2:GetProfilesResponse xmlns:tr2="http://www.onvif.org/ver20/media/wsdl"/></s:Body></s:Envelope>`}, false, "Profile_2", false},
		{"GetServices not supported", "GetServices", notSupported, false, "Profile_2", false},
		// URIs refused by Media2 come from Media, where it has the profile.
		{"GetStreamUri not supported", onvifsim.Media2Op("GetStreamUri"), notSupported, true, "Profile_1 Profile_2", true},
		{"GetStreamUri 404", onvifsim.Media2Op("GetStreamUri"), onvifsim.Misbehaviour{Status: 404, Body: "<html></html>", ContentType: "text/html"}, true, "Profile_1 Profile_2", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, onvifsim.Config{Media2: true, Profiles: onvifsim.H265Profiles()})
			sim.Misbehave(c.op, c.m)
			d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
			if err != nil {
				t.Fatal(err)
			}
			var tokens []string
			for _, p := range d.Profiles {
				tokens = append(tokens, p.Token)
				if p.Token == "Profile_2" && (p.StreamURI == "" || p.Codec != CodecH264) {
					t.Errorf("sub %+v", p)
				}
				if p.Token == "Profile_1" && (p.StreamURI == "") != c.noURI {
					t.Errorf("main %+v", p)
				}
			}
			if d.Media2 != c.media2 || strings.Join(tokens, " ") != c.tokens {
				t.Errorf("media2 %v, profiles %v; want %v, %s", d.Media2, tokens, c.media2, c.tokens)
			}
		})
	}

	// The device stops answering Media2: the probe fails rather than wait
	// for Media as well.
	t.Run("timeout", func(t *testing.T) {
		sim := newSim(t, onvifsim.Config{Media2: true, Profiles: onvifsim.H265Profiles()})
		sim.Misbehave(onvifsim.Media2Op("GetProfiles"), onvifsim.Misbehaviour{Delay: 10 * DefaultTimeout})
		_, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)), WithTimeout(300*time.Millisecond))
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if slices.Contains(ops(sim), "GetProfiles") {
			t.Error("Media asked after Media2 timed out")
		}
	})
}

// TestClientMedia2 calls the Media2 operations one by one.
func TestClientMedia2(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorAxis, Media2: true, Profiles: onvifsim.H265Profiles(), ClockOffset: 90 * time.Second})
	c, err := NewClient(sim.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	if _, err := c.SyncClock(ctx); err != nil {
		t.Fatal(err)
	}
	ps, err := c.GetProfiles2(ctx)
	if err != nil || len(ps) != 2 || ps[0].Video == nil || ps[0].Video.Codec != CodecH265 {
		t.Fatalf("GetProfiles2: %+v, %v", ps, err)
	}
	if uri, err := c.GetStreamURI2(ctx, ps[0].Token); err != nil || uri == "" {
		t.Errorf("GetStreamURI2: %q, %v", uri, err)
	}
	if uri, err := c.GetSnapshotURI2(ctx, ps[0].Token); err != nil || uri == "" {
		t.Errorf("GetSnapshotURI2: %q, %v", uri, err)
	}
	// Media (ver10) does not know the H.265 profile.
	if _, err := c.GetStreamURI(ctx, ps[0].Token); err == nil {
		t.Error("Media handed out a URI for a Media2-only profile")
	}
	if _, err := c.GetStreamURI2(ctx, "nope"); !isFault(err, "NoProfile") {
		t.Errorf("unknown token: %v", err)
	}

	// A device without Media2.
	plain := newSim(t, onvifsim.Config{})
	c2, err := NewClient(plain.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.GetProfiles2(ctx); !errors.Is(err, ErrNoService) {
		t.Errorf("GetProfiles2 without Media2: %v", err)
	}
}

func isFault(err error, subcode string) bool {
	fe, ok := errors.AsType[*FaultError](err)
	return ok && fe.Subcode == subcode
}
