package ptz

import "fmt"

// Args are the operands of a command. Build reads only those of its
// command, and Decode sets only those; see the Command constants for which
// they are.
type Args struct {
	// PanSpeed and TiltSpeed are the speeds of a PTZ command (data 1 and
	// 2), 0 to 255. Build writes each only when the command moves on that
	// axis.
	PanSpeed, TiltSpeed uint8
	// ZoomSpeed is the zoom speed of a PTZ command (data 3), 0 to 15.
	ZoomSpeed uint8
	// FocusSpeed and IrisSpeed are the speeds of an FI command (data 1 and
	// 2), 0 to 255.
	FocusSpeed, IrisSpeed uint8
	// Preset is the preset number of a preset or cruise-point command, 1
	// to 255.
	Preset uint8
	// Group is the cruise or scan group.
	Group uint8
	// Value is the 12-bit operand of CruiseSpeed, CruiseDwell and ScanSpeed
	// (0 to 4095), the operand of Scan (ScanStart, ScanLeftEdge,
	// ScanRightEdge) and the switch number of AuxOn and AuxOff (0 to 255).
	Value uint16
}

// Build lays out cmd and its operands as a Frame at DefaultAddress.
func Build(cmd Command, a Args) (Frame, error) {
	if !cmd.Valid() {
		return Frame{}, fmt.Errorf("%w: %02X", ErrCommand, uint8(cmd))
	}
	f := Frame{Address: DefaultAddress, Instruction: cmd}
	switch {
	case cmd.IsPTZ():
		if a.ZoomSpeed > 15 {
			return Frame{}, fmt.Errorf("%w: zoom speed %d, want 0-15", ErrRange, a.ZoomSpeed)
		}
		if cmd&(Left|Right) != 0 {
			f.Data1 = a.PanSpeed
		}
		if cmd&(Up|Down) != 0 {
			f.Data2 = a.TiltSpeed
		}
		if cmd&(ZoomIn|ZoomOut) != 0 {
			f.Data3 = a.ZoomSpeed
		}
	case cmd.IsFI():
		if cmd&(FocusNear|FocusFar)&0x0F != 0 {
			f.Data1 = a.FocusSpeed
		}
		if cmd&(IrisOpen|IrisClose)&0x0F != 0 {
			f.Data2 = a.IrisSpeed
		}
	default:
		switch cmd {
		case PresetSet, PresetCall, PresetDelete:
			if a.Preset == 0 {
				return Frame{}, fmt.Errorf("%w: preset 0, want 1-255", ErrRange)
			}
			f.Data2 = a.Preset
		case CruiseAdd, CruiseDelete:
			if cmd == CruiseAdd && a.Preset == 0 {
				return Frame{}, fmt.Errorf("%w: preset 0, want 1-255", ErrRange)
			}
			f.Data1, f.Data2 = a.Group, a.Preset
		case CruiseSpeed, CruiseDwell, ScanSpeed:
			if a.Value > 0xFFF {
				return Frame{}, fmt.Errorf("%w: %d, want 0-4095", ErrRange, a.Value)
			}
			f.Data1, f.Data2, f.Data3 = a.Group, uint8(a.Value), uint8(a.Value>>8)
		case CruiseStart:
			f.Data1 = a.Group
		case Scan:
			if a.Value > ScanRightEdge {
				return Frame{}, fmt.Errorf("%w: scan operand %d, want 0-2", ErrRange, a.Value)
			}
			f.Data1, f.Data2 = a.Group, uint8(a.Value)
		case AuxOn, AuxOff:
			if a.Value > 0xFF {
				return Frame{}, fmt.Errorf("%w: switch %d, want 0-255", ErrRange, a.Value)
			}
			f.Data1 = uint8(a.Value)
		}
	}
	return f, nil
}

// Encode returns the PTZCmd text of cmd: speed is the pan and tilt speed of
// a PTZ command or the focus and iris speed of an FI command (0-255),
// zoomSpeed the zoom speed (0-15), preset the preset number of a preset
// command (1-255). Operands a command does not use are ignored. Cruise,
// scan and auxiliary commands need Build for their other operands.
func Encode(cmd Command, speed, zoomSpeed, preset uint8) (string, error) {
	f, err := Build(cmd, Args{
		PanSpeed: speed, TiltSpeed: speed, ZoomSpeed: zoomSpeed,
		FocusSpeed: speed, IrisSpeed: speed, Preset: preset,
	})
	if err != nil {
		return "", err
	}
	return f.String(), nil
}

// Decode reads a PTZCmd, checking its checksums and instruction, and
// returns the command with the operands it uses; data a command does not
// use (WVP, for one, sends the pan speed as the tilt speed too) is left
// out. ParseFrame gives every byte. A preset command with
// data 2 zero takes its number from data 1, where a few platforms put it.
func Decode(s string) (Command, Args, error) {
	f, err := ParseFrame(s)
	if err != nil {
		return 0, Args{}, err
	}
	cmd := f.Instruction
	if !cmd.Valid() {
		return 0, Args{}, fmt.Errorf("%w: %02X", ErrCommand, uint8(cmd))
	}
	var a Args
	switch {
	case cmd.IsPTZ():
		if cmd&(Left|Right) != 0 {
			a.PanSpeed = f.Data1
		}
		if cmd&(Up|Down) != 0 {
			a.TiltSpeed = f.Data2
		}
		if cmd&(ZoomIn|ZoomOut) != 0 {
			a.ZoomSpeed = f.Data3
		}
	case cmd.IsFI():
		if cmd&(FocusNear|FocusFar)&0x0F != 0 {
			a.FocusSpeed = f.Data1
		}
		if cmd&(IrisOpen|IrisClose)&0x0F != 0 {
			a.IrisSpeed = f.Data2
		}
	default:
		switch cmd {
		case PresetSet, PresetCall, PresetDelete:
			a.Preset = f.Data2
			if a.Preset == 0 {
				a.Preset = f.Data1
			}
		case CruiseAdd, CruiseDelete:
			a.Group, a.Preset = f.Data1, f.Data2
		case CruiseSpeed, CruiseDwell, ScanSpeed:
			a.Group, a.Value = f.Data1, uint16(f.Data3)<<8|uint16(f.Data2)
		case CruiseStart:
			a.Group = f.Data1
		case Scan:
			a.Group, a.Value = f.Data1, uint16(f.Data2)
		case AuxOn, AuxOff:
			a.Value = uint16(f.Data1)
		}
	}
	return cmd, a, nil
}
