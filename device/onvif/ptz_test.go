package onvif

import (
	"errors"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif/onvifsim"
)

func TestPTZ(t *testing.T) {
	checkGoroutines(t)
	for _, v := range onvifsim.Vendors {
		t.Run(string(v), func(t *testing.T) {
			sim := newSim(t, onvifsim.Config{Vendor: v, ClockOffset: -7 * time.Minute, Presets: 9})
			ctx := testContext(t)
			c, err := NewClient(sim.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.SyncClock(ctx); err != nil {
				t.Fatal(err)
			}
			profiles, err := c.GetProfiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tok := profiles[0].Token
			if !profiles[0].PTZ {
				t.Fatal("profile without PTZ")
			}

			if err := c.ContinuousMove(ctx, tok, Velocity{Pan: 0.5, Tilt: -0.25}, 1500*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if err := c.ContinuousMove(ctx, tok, Velocity{Zoom: 2}, 0); err != nil { // clamped to 1
				t.Fatal(err)
			}
			if err := c.Stop(ctx, tok); err != nil {
				t.Fatal(err)
			}
			presets, err := c.GetPresets(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if len(presets) != 9 || presets[8].Token != "9" || presets[8].Name != "Preset 9" || presets[8].Position == nil {
				t.Fatalf("presets %+v", presets)
			}
			newTok, err := c.SetPreset(ctx, tok, "Gate & door", "")
			if err != nil || newTok != "10" {
				t.Fatalf("SetPreset = %q, %v", newTok, err)
			}
			if _, err := c.SetPreset(ctx, tok, "", "3"); err != nil {
				t.Fatal(err)
			}
			if err := c.GotoPreset(ctx, tok, newTok, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.GotoPreset(ctx, tok, "2", &Velocity{Pan: 1, Tilt: 1, Zoom: 0.5}); err != nil {
				t.Fatal(err)
			}
			if err := c.RemovePreset(ctx, tok, "4"); err != nil {
				t.Fatal(err)
			}
			presets, err = c.GetPresets(ctx, tok)
			if err != nil || len(presets) != 9 || presets[8].Name != "Gate & door" || presets[2].Name != "Preset 3" {
				t.Fatalf("presets after changes: %+v, %v", presets, err)
			}

			err = c.RemovePreset(ctx, tok, "404")
			if fe, ok := errors.AsType[*FaultError](err); !ok || fe.Subcode != "NoToken" {
				t.Errorf("RemovePreset(404) = %v", err)
			}
			err = c.Stop(ctx, "no-such-profile")
			if fe, ok := errors.AsType[*FaultError](err); !ok || fe.Subcode != "NoProfile" || fe.HTTPStatus != 400 {
				t.Errorf("Stop(no-such-profile) = %v", err)
			}

			want := []onvifsim.PTZCall{
				{Op: "ContinuousMove", ProfileToken: tok, Pan: 0.5, Tilt: -0.25, HasPanTilt: true, Timeout: "PT1.5S"},
				{Op: "ContinuousMove", ProfileToken: tok, Zoom: 1, HasZoom: true},
				{Op: "Stop", ProfileToken: tok, StopPanTilt: "true", StopZoom: "true"},
				{Op: "GetPresets", ProfileToken: tok},
				{Op: "SetPreset", ProfileToken: tok, PresetName: "Gate & door"},
				{Op: "SetPreset", ProfileToken: tok, PresetToken: "3"},
				{Op: "GotoPreset", ProfileToken: tok, PresetToken: "10"},
				{Op: "GotoPreset", ProfileToken: tok, PresetToken: "2", Pan: 1, Tilt: 1, Zoom: 0.5, HasPanTilt: true, HasZoom: true},
				{Op: "RemovePreset", ProfileToken: tok, PresetToken: "4"},
				{Op: "GetPresets", ProfileToken: tok},
				{Op: "RemovePreset", ProfileToken: tok, PresetToken: "404"},
			}
			got := sim.PTZCalls()
			if len(got) != len(want) {
				t.Fatalf("simulator got %d calls, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("call %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestPTZNotOffered(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{NoPTZ: true})
	d, err := Probe(testContext(t), sim.Addr(), testUser, testPass, WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	if d.PTZXAddr != "" || d.Profiles[0].PTZ {
		t.Errorf("PTZ on a fixed camera: %+v", d)
	}
	c, err := NewClient(sim.Addr(), WithCredentials(testUser, testPass), WithTransport(loopbackTransport(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Stop(testContext(t), d.Profiles[0].Token); !errors.Is(err, ErrNoService) {
		t.Errorf("Stop = %v, want ErrNoService", err)
	}
}
