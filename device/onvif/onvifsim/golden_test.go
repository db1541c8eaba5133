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

// goldenReplies lists the renders: file name, template, whether the camera
// is the Media2 one (goldenServer2) and how to fill the view.
var goldenReplies = []struct {
	file   string
	tmpl   string
	media2 bool
	fill   func(s *Server, v *view)
}{
	{"GetSystemDateAndTime", "GetSystemDateAndTime", false, nil},
	{"GetDeviceInformation", "GetDeviceInformation", false, nil},
	{"GetCapabilities", "GetCapabilities", false, nil},
	{"GetServices", "GetServices", false, nil},
	{"GetProfiles", "GetProfiles", false, nil},
	{"GetStreamUri", "GetStreamUri", false, func(s *Server, v *view) { v.URI = s.profiles[0].StreamURI }},
	{"GetSnapshotUri", "GetSnapshotUri", false, func(s *Server, v *view) {
		v.URI = "http://" + s.advertise + SnapshotPath + "?profile=" + s.profiles[0].Token
	}},
	{"GetPresets", "GetPresets", false, func(s *Server, v *view) { v.Presets = s.presets }},
	{"SetPreset", "SetPreset", false, func(s *Server, v *view) { v.PresetToken = "5" }},
	{"ContinuousMove", "ContinuousMove", false, nil},
	{"Stop", "Stop", false, nil},
	{"Fault_NotAuthorized", "Fault", false, func(s *Server, v *view) {
		v.Fault = Fault{Code: "Sender", Subcode: "NotAuthorized", Reason: "Sender not Authorized"}.view()
	}},
	{"Fault_NoProfile", "Fault", false, func(s *Server, v *view) { v.Fault = noProfile().view() }},
	// The Media2 camera: its GetServices lists Media2; Media (ver10) lists
	// only the H.264 sub stream, Media2 both streams.
	{"Media2_GetServices", "GetServices", true, nil},
	{"Media2_GetProfilesMedia1", "GetProfiles", true, nil},
	{"Media2_GetProfiles", "Media2_GetProfiles", true, func(s *Server, v *view) { v.Configs = newConfigTypes([]string{"All"}) }},
	{"Media2_GetStreamUri", "Media2_GetStreamUri", true, func(s *Server, v *view) { v.URI = s.profiles[0].StreamURI }},
	{"Media2_GetSnapshotUri", "Media2_GetSnapshotUri", true, func(s *Server, v *view) {
		v.URI = "http://" + s.advertise + SnapshotPath + "?profile=" + s.profiles[0].Token
	}},
	{"ProbeMatches", "ProbeMatches", false, func(s *Server, v *view) {
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

// goldenServer2 is a Profile T camera with its main stream in H.265
// (H265Profiles).
func goldenServer2(t *testing.T, vendor Vendor) *Server {
	t.Helper()
	s, err := newServer(Config{Vendor: vendor, Advertise: "192.168.1.64", Media2: true, Profiles: H265Profiles()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGolden keeps ../testdata/sim in step with the templates; run with
// -update after changing a template.
func TestGolden(t *testing.T) {
	for _, vendor := range Vendors {
		s1, s2 := goldenServer(t, vendor), goldenServer2(t, vendor)
		dir := filepath.Join(goldenDir, string(vendor))
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range goldenReplies {
			t.Run(string(vendor)+"/"+g.file, func(t *testing.T) {
				s := s1
				if g.media2 {
					s = s2
				}
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
