package onvifsim

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden renders in ../testdata/sim")

// goldenDir holds renders of every reply template with fixed data. The
// client's parser tests and fuzz seeds read them, so they show what the
// simulator serves without running it.
const goldenDir = "../testdata/sim"

// goldenTime is the simulator clock of the golden renders.
var goldenTime = time.Date(2024, 5, 1, 8, 30, 15, 0, time.UTC)

// goldenReplies lists the renders: file name and how to fill the view.
var goldenReplies = []struct {
	file string
	tmpl string
	fill func(s *Server, v *view)
}{
	{"GetSystemDateAndTime", "GetSystemDateAndTime", nil},
	{"GetDeviceInformation", "GetDeviceInformation", nil},
	{"GetCapabilities", "GetCapabilities", nil},
	{"GetServices", "GetServices", nil},
	{"GetProfiles", "GetProfiles", nil},
	{"GetStreamUri", "GetStreamUri", func(s *Server, v *view) { v.URI = s.profiles[0].StreamURI }},
	{"GetSnapshotUri", "GetSnapshotUri", func(s *Server, v *view) {
		v.URI = "http://" + s.advertise + SnapshotPath + "?profile=" + s.profiles[0].Token
	}},
	{"GetPresets", "GetPresets", func(s *Server, v *view) { v.Presets = s.presets }},
	{"SetPreset", "SetPreset", func(s *Server, v *view) { v.PresetToken = "5" }},
	{"ContinuousMove", "ContinuousMove", nil},
	{"Stop", "Stop", nil},
	{"Fault_NotAuthorized", "Fault", func(s *Server, v *view) {
		v.Fault = Fault{Code: "Sender", Subcode: "NotAuthorized", Reason: "Sender not Authorized"}.view()
	}},
	{"Fault_NoProfile", "Fault", func(s *Server, v *view) { v.Fault = noProfile().view() }},
	{"ProbeMatches", "ProbeMatches", func(s *Server, v *view) {
		v.MessageID = "urn:uuid:5e6c1f0a-0b6e-4c59-9d36-000000000001"
		v.RelatesTo = "urn:uuid:0a6dc791-2be6-4991-9af1-454778a1917a"
		v.InstanceID, v.MessageNumber = 1714552215, 1
	}},
}

func goldenServer(t *testing.T, vendor Vendor) *Server {
	t.Helper()
	s, err := newServer(Config{Vendor: vendor, Advertise: "192.168.1.64"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGolden keeps ../testdata/sim in step with the templates; run with
// -update after changing a template.
func TestGolden(t *testing.T) {
	for _, vendor := range Vendors {
		s := goldenServer(t, vendor)
		dir := filepath.Join(goldenDir, string(vendor))
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range goldenReplies {
			t.Run(string(vendor)+"/"+g.file, func(t *testing.T) {
				v := s.baseView(goldenTime)
				if g.fill != nil {
					g.fill(s, v)
				}
				got, err := s.render(g.tmpl, v)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, g.file+".xml")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the template's render (run with -update)", path)
				}
			})
		}
	}
}
