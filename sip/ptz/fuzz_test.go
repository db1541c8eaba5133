package ptz

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecode feeds PTZCmd text to Decode. It must not panic; what it
// accepts must be a valid command whose operands rebuild a frame that
// decodes to the same command and operands.
func FuzzDecode(f *testing.F) {
	for _, c := range knownCases {
		f.Add(c.hex)
	}
	f.Add("A50F0103000000B8")
	f.Add("A5100100000000B6")
	f.Fuzz(func(t *testing.T, s string) {
		fr, ferr := ParseFrame(s)
		cmd, args, err := Decode(s)
		if ferr != nil {
			if err == nil {
				t.Fatal("Decode accepted what ParseFrame rejected")
			}
			return
		}
		// A frame of version 0 reads back as the same text.
		if text := strings.ToUpper(strings.Trim(s, " \t")); text[2:4] == "0F" && fr.String() != text {
			t.Fatalf("frame %+v reads back as %s", fr, fr)
		}
		if err != nil {
			if !errors.Is(err, ErrCommand) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !cmd.Valid() {
			t.Fatalf("invalid %v accepted", cmd)
		}
		f2, err := Build(cmd, args)
		if err != nil {
			if !errors.Is(err, ErrRange) {
				t.Fatalf("rebuild: %v", err)
			}
			return
		}
		cmd2, args2, err := Decode(f2.String())
		if err != nil || cmd2 != cmd || args2 != args {
			t.Fatalf("%s: %v %+v, rebuilt %s: %v %+v %v", s, cmd, args, f2, cmd2, args2, err)
		}
	})
}
