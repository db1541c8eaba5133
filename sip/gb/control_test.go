package gb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/ptz"
)

// PTZ "left speed 128" reaches the device as the exact PTZCmd of Annex
// A.3: A5 0F 01 02 80 00 00 and the checksum (A5+0F+01+02+80) mod 256 = 37.
func TestPTZ(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, nil)
			d := e.device(t, func(c *gbsim.Config) { c.Transport = tr; c.Channels = 2 })
			ctx := ctxTimeout(t, 5*time.Second)
			ch := d.ChannelID(2)
			if err := e.client.PTZ(ctx, d.ID(), ch, ptz.Left, ptz.Args{PanSpeed: 128}); err != nil {
				t.Fatal(err)
			}
			// Visible as soon as the 200 came back.
			got := d.Controls()
			if len(got) != 1 {
				t.Fatalf("%d controls recorded", len(got))
			}
			c := got[0]
			if c.PTZCmd != "A50F010280000037" || c.DeviceID != ch || c.PTZErr != nil || c.PTZ != ptz.Left ||
				c.PTZArgs != (ptz.Args{PanSpeed: 128}) || c.ControlPriority != 5 {
				t.Errorf("control = %+v", c)
			}

			steps := []struct {
				cmd  ptz.Command
				args ptz.Args
				hex  string
			}{
				{ptz.UpRight, ptz.Args{PanSpeed: 0x20, TiltSpeed: 0x30}, "A50F01092030000E"},
				{ptz.ZoomIn, ptz.Args{ZoomSpeed: 5}, "A50F011000005015"},
				{ptz.Stop, ptz.Args{}, "A50F0100000000B5"},
				{ptz.PresetCall, ptz.Args{Preset: 3}, "A50F01820003003A"},
			}
			for _, s := range steps {
				if err := e.client.PTZ(ctx, d.ID(), ch, s.cmd, s.args); err != nil {
					t.Fatal(err)
				}
			}
			got = d.Controls()[1:]
			for i, s := range steps {
				if got[i].PTZCmd != s.hex || got[i].PTZ != s.cmd || got[i].PTZErr != nil {
					t.Errorf("%s: device got %+v, want %s", s.cmd, got[i], s.hex)
				}
			}

			// Preset set and delete change what PresetQuery answers.
			if err := e.client.PTZ(ctx, d.ID(), ch, ptz.PresetSet, ptz.Args{Preset: 9}); err != nil {
				t.Fatal(err)
			}
			if err := e.client.PTZ(ctx, d.ID(), ch, ptz.PresetDelete, ptz.Args{Preset: 1}); err != nil {
				t.Fatal(err)
			}
			presets, err := e.client.Presets(ctx, d.ID(), ch)
			if err != nil || len(presets) != 3 || presets[0].ID != 2 || presets[2].ID != 9 {
				t.Errorf("presets = %+v, %v", presets, err)
			}

			// A bad operand is refused before anything is sent.
			n := len(d.Controls())
			if err := e.client.PTZ(ctx, d.ID(), ch, ptz.ZoomIn, ptz.Args{ZoomSpeed: 16}); !errors.Is(err, ptz.ErrRange) {
				t.Errorf("zoom speed 16: err = %v", err)
			}
			if err := e.client.PTZ(ctx, d.ID(), ch, ptz.Left|ptz.Right, ptz.Args{}); !errors.Is(err, ptz.ErrCommand) {
				t.Errorf("left+right: err = %v", err)
			}
			if len(d.Controls()) != n {
				t.Error("an invalid command was sent")
			}
		})
	}
}

func TestControls(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, func(c *gbsim.Config) { c.Channels = 2 })
	ctx := ctxTimeout(t, 5*time.Second)
	ch := d.ChannelID(1)
	for _, f := range []func() error{
		func() error { return e.client.TeleBoot(ctx, d.ID()) },
		func() error { return e.client.IFrame(ctx, d.ID(), ch) },
		func() error { return e.client.Record(ctx, d.ID(), ch, true) },
		func() error { return e.client.Record(ctx, d.ID(), ch, false) },
		func() error { return e.client.Guard(ctx, d.ID(), true) },
		func() error { return e.client.Guard(ctx, d.ID(), false) },
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	got := d.Controls()
	if len(got) != 6 {
		t.Fatalf("%d controls", len(got))
	}
	want := []gbsim.Control{
		{DeviceID: d.ID(), TeleBoot: "Boot"},
		{DeviceID: ch, IFameCmd: "Send"},
		{DeviceID: ch, RecordCmd: "Record"},
		{DeviceID: ch, RecordCmd: "StopRecord"},
		{DeviceID: d.ID(), GuardCmd: "SetGuard"},
		{DeviceID: d.ID(), GuardCmd: "ResetGuard"},
	}
	for i, w := range want {
		g := got[i]
		if g.DeviceID != w.DeviceID || g.TeleBoot != w.TeleBoot || g.IFameCmd != w.IFameCmd ||
			g.RecordCmd != w.RecordCmd || g.GuardCmd != w.GuardCmd || g.PTZCmd != "" {
			t.Errorf("control %d = %+v, want %+v", i, g, w)
		}
		if i > 0 && g.SN <= got[i-1].SN {
			t.Errorf("SN %d after %d", g.SN, got[i-1].SN)
		}
	}
	// The device answers record and guard commands with a Result, which
	// the client logs without anyone waiting for it.
	deadline := time.Now().Add(2 * time.Second)
	for !e.log.contains("device answered a control") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !e.log.contains("device answered a control") {
		t.Error("control results not seen")
	}
}
