package gb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip/ptz"
)

// DefaultPTZSpeed is the speed of a move that names none: half of the 0-255 range, which every
// dome treats as a usable medium speed.
const DefaultPTZSpeed = 128

// PTZActions are the actions PTZ requests name, in the order the API documents them.
var PTZActions = []string{
	"left", "right", "up", "down", "up_left", "up_right", "down_left", "down_right",
	"zoom_in", "zoom_out", "focus_near", "focus_far", "iris_open", "iris_close", "stop", "fi_stop",
	"preset_set", "preset_call", "preset_delete",
}

// PTZRequest is a PTZ request as the API takes it.
type PTZRequest struct {
	// Action is one of PTZActions.
	Action string
	// Speed is 0-255; nil means DefaultPTZSpeed. Pan, tilt, focus and iris take it as it is;
	// zoom, which has 4 bits (GB/T 28181-2016 A.3.2), takes Speed>>4.
	Speed *int
	// Preset is the preset number, 1-255, of the preset actions.
	Preset *int
}

// ParsePTZ turns a request into the PTZCmd command and operands. Errors wrap device.ErrInvalid.
func ParsePTZ(r PTZRequest) (ptz.Command, ptz.Args, error) {
	action := strings.ToLower(strings.TrimSpace(r.Action))
	if !slices.Contains(PTZActions, action) {
		return 0, ptz.Args{}, fmt.Errorf("%w: action %q is not one of %s", device.ErrInvalid, r.Action, strings.Join(PTZActions, ", "))
	}
	cmd, ok := ptz.ParseCommand(action)
	if !ok {
		return 0, ptz.Args{}, fmt.Errorf("%w: action %q", device.ErrInvalid, r.Action)
	}
	speed := DefaultPTZSpeed
	if r.Speed != nil {
		speed = *r.Speed
	}
	if speed < 0 || speed > 255 {
		return 0, ptz.Args{}, fmt.Errorf("%w: speed %d is not within 0-255", device.ErrInvalid, speed)
	}
	var a ptz.Args
	switch cmd {
	case ptz.PresetSet, ptz.PresetCall, ptz.PresetDelete:
		if r.Preset == nil || *r.Preset < 1 || *r.Preset > 255 {
			return 0, ptz.Args{}, fmt.Errorf("%w: %s needs a preset within 1-255", device.ErrInvalid, action)
		}
		a.Preset = uint8(*r.Preset)
	default:
		a.PanSpeed, a.TiltSpeed = uint8(speed), uint8(speed)
		a.ZoomSpeed = uint8(speed >> 4)
		a.FocusSpeed, a.IrisSpeed = uint8(speed), uint8(speed)
	}
	return cmd, a, nil
}
