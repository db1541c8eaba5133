package rtp

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz from the test tables")

// TestWriteFuzzSeeds commits the table cases as fuzz corpora, so that `go
// test` replays them and `go test -fuzz` starts from them. Run with
// -update-seeds after changing a table.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds")
	}
	write := func(target, name string, b []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range packetCases {
		write("FuzzPacket", c.name, c.raw)
	}
	for _, c := range framingCases {
		write("FuzzFraming", c.name, c.stream)
	}
	reorder := map[string][]byte{
		"in_order":    {1, 0, 1, 0, 1, 0},
		"swap":        {1, 0, 2, 0, 0xff, 0, 1, 0},
		"loss_late":   {1, 0, 3, 5, 1, 200, 0xfd, 0},
		"duplicates":  {1, 0, 0, 0, 1, 0, 0, 1},
		"restart":     {1, 0, 0x80, 0, 1, 0, 1, 0},
		"window_jump": {1, 0, 70, 0, 1, 0xff, 1, 0xfe, 1, 0},
	}
	for name, ops := range reorder {
		write("FuzzReorder", name, ops)
	}
}
