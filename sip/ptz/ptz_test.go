package ptz

import (
	"errors"
	"strings"
	"testing"
)

// knownCases are PTZCmd strings as GB/T 28181 platforms send them: stop is
// the one every implementation agrees on; the others match WVP-GB28181-pro's
// frontEndCmdString for the same operands (and, for single-axis moves, the
// standard's rule that data 1 is the pan speed and data 2 the tilt speed).
// Every checksum was verified with an independent script. The same table
// drives the encode and decode tests and seeds FuzzDecode.
var knownCases = []struct {
	name   string
	cmd    Command
	speed  uint8
	zoom   uint8
	preset uint8
	hex    string
	args   Args // what Decode returns
}{
	{"stop", Stop, 0, 0, 0, "A50F0100000000B5", Args{}},
	{"stop ignores speeds", Stop, 200, 15, 9, "A50F0100000000B5", Args{}},
	{"up", Up, 0x3F, 0, 0, "A50F0108003F00FC", Args{TiltSpeed: 0x3F}},
	{"up 100", Up, 0x64, 0, 0, "A50F010800640021", Args{TiltSpeed: 0x64}},
	{"down", Down, 0x64, 0, 0, "A50F01040064001D", Args{TiltSpeed: 0x64}},
	{"left", Left, 0x64, 0, 0, "A50F01026400001B", Args{PanSpeed: 0x64}},
	{"right", Right, 0x64, 0, 0, "A50F01016400001A", Args{PanSpeed: 0x64}},
	{"up left", UpLeft, 0x80, 0, 0, "A50F010A808000BF", Args{PanSpeed: 0x80, TiltSpeed: 0x80}},
	{"up right", UpRight, 0xFF, 0, 0, "A50F0109FFFF00BC", Args{PanSpeed: 0xFF, TiltSpeed: 0xFF}},
	{"down left", DownLeft, 1, 0, 0, "A50F0106010100BD", Args{PanSpeed: 1, TiltSpeed: 1}},
	{"down right", DownRight, 0x10, 0, 0, "A50F0105101000DA", Args{PanSpeed: 0x10, TiltSpeed: 0x10}},
	{"zoom in", ZoomIn, 0, 1, 0, "A50F0110000010D5", Args{ZoomSpeed: 1}},
	{"zoom out", ZoomOut, 0, 4, 0, "A50F012000004015", Args{ZoomSpeed: 4}},
	{"zoom in fastest", ZoomIn, 0, 15, 0, "A50F01100000F0B5", Args{ZoomSpeed: 15}},
	{"right and zoom in", Right | ZoomIn, 0x20, 2, 0, "A50F011120002006", Args{PanSpeed: 0x20, ZoomSpeed: 2}},
	{"focus far", FocusFar, 0x20, 0, 0, "A50F014120000016", Args{FocusSpeed: 0x20}},
	{"focus near", FocusNear, 0x20, 0, 0, "A50F014220000017", Args{FocusSpeed: 0x20}},
	{"iris open", IrisOpen, 0x20, 0, 0, "A50F014400200019", Args{IrisSpeed: 0x20}},
	{"iris close", IrisClose, 0x20, 0, 0, "A50F01480020001D", Args{IrisSpeed: 0x20}},
	{"fi stop", FIStop, 0x20, 0, 0, "A50F0140000000F5", Args{}},
	{"preset set", PresetSet, 0, 0, 1, "A50F018100010037", Args{Preset: 1}},
	{"preset call", PresetCall, 0, 0, 5, "A50F01820005003C", Args{Preset: 5}},
	{"preset delete", PresetDelete, 0, 0, 255, "A50F018300FF0037", Args{Preset: 255}},
}

func TestEncodeKnown(t *testing.T) {
	for _, c := range knownCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Encode(c.cmd, c.speed, c.zoom, c.preset)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.hex {
				t.Errorf("Encode = %s, want %s", got, c.hex)
			}
		})
	}
}

func TestDecodeKnown(t *testing.T) {
	for _, c := range knownCases {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range []string{c.hex, strings.ToLower(c.hex), " " + c.hex + "\t"} {
				cmd, args, err := Decode(s)
				if err != nil {
					t.Fatal(err)
				}
				if cmd != c.cmd || args != c.args {
					t.Errorf("Decode(%q) = %v %+v, want %v %+v", s, cmd, args, c.cmd, c.args)
				}
			}
		})
	}
}

// TestByteLayout checks the layout of A.3.1 byte by byte on a frame with
// every field set.
func TestByteLayout(t *testing.T) {
	f := Frame{Address: 0xABC, Instruction: ZoomOut | Down, Data1: 0x12, Data2: 0x34, Data3: 0x9}
	b := f.Bytes()
	want := [8]byte{0xA5, 0x0F, 0xBC, 0x24, 0x12, 0x34, 0x9A, 0}
	var sum int
	for _, c := range want[:7] {
		sum += int(c)
	}
	want[7] = byte(sum % 256)
	if b != want {
		t.Fatalf("% X, want % X", b, want)
	}
	back, err := ParseFrame(f.String())
	if err != nil || back != f {
		t.Fatalf("%+v %v", back, err)
	}
}

func TestBuildOthers(t *testing.T) {
	for _, c := range []struct {
		name string
		cmd  Command
		args Args
		hex  string
	}{
		{"cruise add", CruiseAdd, Args{Group: 1, Preset: 3}, "A50F01840103003D"},
		{"cruise delete all", CruiseDelete, Args{Group: 1}, "A50F01850100003B"},
		{"cruise speed", CruiseSpeed, Args{Group: 2, Value: 0x123}, "A50F018602231070"},
		{"cruise dwell 60 s", CruiseDwell, Args{Group: 2, Value: 60}, "A50F0187023C007A"},
		{"cruise start", CruiseStart, Args{Group: 2}, "A50F01880200003F"},
		{"scan start", Scan, Args{Group: 1, Value: ScanStart}, "A50F01890100003F"},
		{"scan right edge", Scan, Args{Group: 1, Value: ScanRightEdge}, "A50F018901020041"},
		{"scan speed", ScanSpeed, Args{Group: 1, Value: 0xFFF}, "A50F018A01FFF02F"},
		{"wiper on", AuxOn, Args{Value: 1}, "A50F018C01000042"},
		{"wiper off", AuxOff, Args{Value: 1}, "A50F018D01000043"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Build(c.cmd, c.args)
			if err != nil {
				t.Fatal(err)
			}
			if f.String() != c.hex {
				t.Errorf("%s, want %s", f, c.hex)
			}
			cmd, args, err := Decode(c.hex)
			if err != nil || cmd != c.cmd || args != c.args {
				t.Errorf("Decode = %v %+v %v", cmd, args, err)
			}
		})
	}
}

func TestBuildEveryCommand(t *testing.T) {
	n := 0
	for i := range 256 {
		cmd := Command(i)
		a := Args{PanSpeed: 1, TiltSpeed: 2, ZoomSpeed: 3, FocusSpeed: 4, IrisSpeed: 5, Preset: 6, Group: 7, Value: 1}
		f, err := Build(cmd, a)
		if !cmd.Valid() {
			if !errors.Is(err, ErrCommand) {
				t.Errorf("%02X: %v", i, err)
			}
			continue
		}
		n++
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		got, args, err := Decode(f.String())
		if err != nil || got != cmd {
			t.Fatalf("%v: %v %v", cmd, got, err)
		}
		again, err := Build(got, args)
		if err != nil || again != f {
			t.Fatalf("%v: rebuilt %+v %v, want %+v", cmd, again, err, f)
		}
		if back, ok := ParseCommand(cmd.String()); !ok || back != cmd {
			t.Errorf("ParseCommand(%q) = %v %v", cmd.String(), back, ok)
		}
	}
	// 27 PTZ (3 states on each of 3 axes), 9 FI, 3 preset, 5 cruise, 2 scan, 2 aux.
	if n != 27+9+3+5+2+2 {
		t.Errorf("%d valid commands", n)
	}
}

func TestBuildRange(t *testing.T) {
	for _, c := range []struct {
		cmd  Command
		args Args
	}{
		{ZoomIn, Args{ZoomSpeed: 16}},
		{PresetCall, Args{}},
		{CruiseAdd, Args{Group: 1}},
		{CruiseSpeed, Args{Value: 4096}},
		{Scan, Args{Value: 3}},
		{AuxOn, Args{Value: 256}},
	} {
		if _, err := Build(c.cmd, c.args); !errors.Is(err, ErrRange) {
			t.Errorf("%v %+v: %v", c.cmd, c.args, err)
		}
	}
	if _, err := Encode(Left|Right, 1, 0, 0); !errors.Is(err, ErrCommand) {
		t.Errorf("left+right: %v", err)
	}
}

func TestParseFrameErrors(t *testing.T) {
	for _, c := range []struct {
		in  string
		err error
	}{
		{"", ErrFormat},
		{"A50F0100000000B", ErrFormat},
		{"A50F0100000000B500", ErrFormat},
		{"A50F01000000G0B5", ErrFormat},
		{"B50F0100000000C5", ErrFormat},
		{"A50E0100000000B4", ErrChecksum},
		{"A50F0100000000B6", ErrChecksum},
	} {
		if _, err := ParseFrame(c.in); !errors.Is(err, c.err) {
			t.Errorf("%q: %v, want %v", c.in, err, c.err)
		}
	}
	// Opposite directions at once pass the frame checks but not Decode.
	if _, _, err := Decode("A50F0103000000B8"); !errors.Is(err, ErrCommand) {
		t.Errorf("left+right: %v", err)
	}
	if _, _, err := Decode("A50F01FF000000B4"); !errors.Is(err, ErrCommand) {
		t.Errorf("FF: %v", err)
	}
}

func TestParseFrameVersion(t *testing.T) {
	// Version 1: high nibble 1, check (0xA + 0x5 + 1) % 16 = 0.
	f, err := ParseFrame("A5100100000000B6")
	if err != nil || f.Instruction != Stop || f.Address != 1 {
		t.Fatalf("%+v %v", f, err)
	}
}

func TestDecodePresetInData1(t *testing.T) {
	// A few platforms put the preset number in data 1.
	cmd, args, err := Decode("A50F01820500003C")
	if err != nil || cmd != PresetCall || args.Preset != 5 {
		t.Fatalf("%v %+v %v", cmd, args, err)
	}
}

func TestDecodeUnusedData(t *testing.T) {
	// WVP-GB28181-pro sends the move speed as both pan and tilt speed.
	cmd, args, err := Decode("A50F0102FFFF00B5")
	if err != nil || cmd != Left || args != (Args{PanSpeed: 0xFF}) {
		t.Fatalf("%v %+v %v", cmd, args, err)
	}
	f, err := ParseFrame("A50F0102FFFF00B5")
	if err != nil || f.Data2 != 0xFF {
		t.Fatalf("%+v %v", f, err)
	}
}

func TestCommandNames(t *testing.T) {
	for _, c := range []struct {
		cmd  Command
		name string
	}{
		{Stop, "stop"}, {Left, "left"}, {UpLeft, "up+left"}, {DownRight, "down+right"},
		{ZoomIn, "zoom_in"}, {Up | ZoomOut, "up+zoom_out"}, {FocusNear, "focus_near"},
		{IrisClose | FocusFar, "focus_far+iris_close"}, {FIStop, "fi_stop"},
		{PresetCall, "preset_call"}, {AuxOff, "aux_off"}, {Command(0x03), "Command(0x3)"},
	} {
		if s := c.cmd.String(); s != c.name {
			t.Errorf("%02X: %q, want %q", uint8(c.cmd), s, c.name)
		}
	}
	for in, want := range map[string]Command{
		"UP_LEFT": UpLeft, "left_down": DownLeft, "zoom_in": ZoomIn, "preset_set": PresetSet,
		"iris_open": IrisOpen, "right+zoom_out": Right | ZoomOut,
	} {
		if got, ok := ParseCommand(in); !ok || got != want {
			t.Errorf("%q: %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "sideways", "left+right", "left+focus_near", "zoom_in+zoom_out", "+"} {
		if got, ok := ParseCommand(in); ok {
			t.Errorf("%q: %v", in, got)
		}
	}
}
