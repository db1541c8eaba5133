package gb

import (
	"errors"
	"testing"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip/ptz"
)

func TestParsePTZ(t *testing.T) {
	n := func(v int) *int { return &v }
	tests := []struct {
		req  PTZRequest
		cmd  ptz.Command
		args ptz.Args
		ok   bool
	}{
		{PTZRequest{Action: "left", Speed: n(100)}, ptz.Left, ptz.Args{PanSpeed: 100, TiltSpeed: 100, ZoomSpeed: 6, FocusSpeed: 100, IrisSpeed: 100}, true},
		{PTZRequest{Action: "UP_RIGHT"}, ptz.UpRight, ptz.Args{PanSpeed: 128, TiltSpeed: 128, ZoomSpeed: 8, FocusSpeed: 128, IrisSpeed: 128}, true},
		{PTZRequest{Action: "zoom_in", Speed: n(255)}, ptz.ZoomIn, ptz.Args{PanSpeed: 255, TiltSpeed: 255, ZoomSpeed: 15, FocusSpeed: 255, IrisSpeed: 255}, true},
		{PTZRequest{Action: "zoom_out", Speed: n(0)}, ptz.ZoomOut, ptz.Args{}, true},
		{PTZRequest{Action: "preset_call", Preset: n(7)}, ptz.PresetCall, ptz.Args{Preset: 7}, true},
		{PTZRequest{Action: "preset_delete", Preset: n(255), Speed: n(999)}, 0, ptz.Args{}, false},
		{PTZRequest{Action: "preset_set", Preset: n(0)}, 0, ptz.Args{}, false},
		{PTZRequest{Action: "preset_set"}, 0, ptz.Args{}, false},
		{PTZRequest{Action: "left", Speed: n(256)}, 0, ptz.Args{}, false},
		{PTZRequest{Action: "left", Speed: n(-1)}, 0, ptz.Args{}, false},
		{PTZRequest{Action: "up+left"}, 0, ptz.Args{}, false}, // the API names diagonals up_left
		{PTZRequest{Action: ""}, 0, ptz.Args{}, false},
		{PTZRequest{Action: "cruise_start"}, 0, ptz.Args{}, false},
	}
	for _, tt := range tests {
		cmd, args, err := ParsePTZ(tt.req)
		if tt.ok != (err == nil) {
			t.Errorf("%+v: err %v", tt.req, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, device.ErrInvalid) {
				t.Errorf("%+v: %v does not wrap ErrInvalid", tt.req, err)
			}
			continue
		}
		if cmd != tt.cmd || args != tt.args {
			t.Errorf("%+v: %v %+v, want %v %+v", tt.req, cmd, args, tt.cmd, tt.args)
		}
	}
	// Every documented action parses.
	for _, a := range PTZActions {
		if _, _, err := ParsePTZ(PTZRequest{Action: a, Preset: n(1)}); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}
