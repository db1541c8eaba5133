package ptz

import (
	"strconv"
	"strings"
)

// Command is the instruction byte of a PTZCmd (byte 3). PTZ and FI
// commands are bit sets, so directions combine with |: UpLeft is Up|Left,
// and Right|ZoomIn pans while zooming.
type Command uint8

// PTZ commands (A.3.2): bits 0-5 of an instruction whose two high bits are
// 0. Data 1 is the pan speed, data 2 the tilt speed, data 3 the zoom speed.
const (
	Stop    Command = 0x00
	Right   Command = 0x01
	Left    Command = 0x02
	Down    Command = 0x04
	Up      Command = 0x08
	ZoomIn  Command = 0x10 // tele
	ZoomOut Command = 0x20 // wide

	UpLeft    = Up | Left
	UpRight   = Up | Right
	DownLeft  = Down | Left
	DownRight = Down | Right
)

// FI commands (focus and iris, A.3.3): 0100 in the high nibble and a bit
// set in the low one. Data 1 is the focus speed, data 2 the iris speed.
const (
	FIStop    Command = 0x40
	FocusFar  Command = 0x41
	FocusNear Command = 0x42
	IrisOpen  Command = 0x44
	IrisClose Command = 0x48
)

// Preset commands (A.3.4): data 2 is the preset number, 1 to 255.
const (
	PresetSet    Command = 0x81
	PresetCall   Command = 0x82
	PresetDelete Command = 0x83
)

// Cruise (tour) commands (A.3.5): data 1 is the cruise group. A cruise
// stops with Stop.
const (
	CruiseAdd    Command = 0x84 // data 2: preset number
	CruiseDelete Command = 0x85 // data 2: preset number; 0 deletes the whole cruise
	CruiseSpeed  Command = 0x86 // data 2 and data 3: 12-bit speed
	CruiseDwell  Command = 0x87 // data 2 and data 3: 12-bit dwell time in seconds
	CruiseStart  Command = 0x88
)

// Scan commands (A.3.6): data 1 is the scan group. A scan stops with Stop.
const (
	Scan      Command = 0x89 // data 2: ScanStart, ScanLeftEdge or ScanRightEdge
	ScanSpeed Command = 0x8A // data 2 and data 3: 12-bit speed
)

// Operands of Scan.
const (
	ScanStart     = 0
	ScanLeftEdge  = 1
	ScanRightEdge = 2
)

// Auxiliary switch commands (A.3.7): data 1 is the switch number, 1 being
// the wiper.
const (
	AuxOn  Command = 0x8C
	AuxOff Command = 0x8D
)

// IsPTZ reports whether c is a pan, tilt or zoom command (or Stop).
func (c Command) IsPTZ() bool { return c&0xC0 == 0 }

// IsFI reports whether c is a focus or iris command (or FIStop).
func (c Command) IsFI() bool { return c&0xF0 == 0x40 }

// Valid reports whether c is an instruction of Annex A.3. A PTZ or FI
// command may not move both ways at once (left and right, up and down, in
// and out, near and far, open and close).
func (c Command) Valid() bool {
	switch {
	case c.IsPTZ():
		return c&0x03 != 0x03 && c&0x0C != 0x0C && c&0x30 != 0x30
	case c.IsFI():
		return c&0x03 != 0x03 && c&0x0C != 0x0C
	}
	switch c {
	case PresetSet, PresetCall, PresetDelete,
		CruiseAdd, CruiseDelete, CruiseSpeed, CruiseDwell, CruiseStart,
		Scan, ScanSpeed, AuxOn, AuxOff:
		return true
	}
	return false
}

var ptzBits = [...]struct {
	bit  Command
	name string
}{
	{Up, "up"}, {Down, "down"}, {Left, "left"}, {Right, "right"},
	{ZoomIn, "zoom_in"}, {ZoomOut, "zoom_out"},
}

var fiBits = [...]struct {
	bit  Command
	name string
}{
	{FocusNear & 0x0F, "focus_near"}, {FocusFar & 0x0F, "focus_far"},
	{IrisOpen & 0x0F, "iris_open"}, {IrisClose & 0x0F, "iris_close"},
}

var names = map[Command]string{
	Stop: "stop", FIStop: "fi_stop",
	PresetSet: "preset_set", PresetCall: "preset_call", PresetDelete: "preset_delete",
	CruiseAdd: "cruise_add", CruiseDelete: "cruise_delete", CruiseSpeed: "cruise_speed",
	CruiseDwell: "cruise_dwell", CruiseStart: "cruise_start",
	Scan: "scan", ScanSpeed: "scan_speed", AuxOn: "aux_on", AuxOff: "aux_off",
}

// String names c as the API does: "left", "zoom_in", "preset_call", and
// combined directions joined with "+" ("up+left+zoom_in").
func (c Command) String() string {
	if n, ok := names[c]; ok {
		return n
	}
	if !c.Valid() {
		return "Command(0x" + strconv.FormatUint(uint64(c), 16) + ")"
	}
	var parts []string
	if c.IsPTZ() {
		for _, b := range ptzBits {
			if c&b.bit != 0 {
				parts = append(parts, b.name)
			}
		}
	} else {
		for _, b := range fiBits {
			if c&b.bit != 0 {
				parts = append(parts, b.name)
			}
		}
	}
	return strings.Join(parts, "+")
}

// ParseCommand is the inverse of Command.String, accepting "up_left" style
// names for the diagonals too.
func ParseCommand(s string) (Command, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for c, n := range names {
		if n == s {
			return c, true
		}
	}
	switch s {
	case "up_left", "left_up":
		return UpLeft, true
	case "up_right", "right_up":
		return UpRight, true
	case "down_left", "left_down":
		return DownLeft, true
	case "down_right", "right_down":
		return DownRight, true
	}
	var ptz, fi Command
	for part := range strings.SplitSeq(s, "+") {
		found := false
		for _, b := range ptzBits {
			if part == b.name {
				ptz |= b.bit
				found = true
			}
		}
		for _, b := range fiBits {
			if part == b.name {
				fi |= b.bit
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	c := ptz
	if fi != 0 {
		if ptz != 0 {
			return 0, false // PTZ and FI bits do not mix
		}
		c = FIStop | fi
	}
	return c, c.Valid()
}
