package onvif

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The decoders below are what the Client does with a reply body after the
// HTTP exchange; the parser tests and the fuzz targets share them.

func decodeSystemDateAndTime(data []byte) (*SystemDateTime, error) {
	var r systemDateAndTimeResponseXML
	if err := parseSOAP(data, "GetSystemDateAndTimeResponse", &r); err != nil {
		return nil, err
	}
	return r.toSystemDateTime(), nil
}

func decodeDeviceInformation(data []byte) (*deviceInformationXML, error) {
	var r deviceInformationXML
	if err := parseSOAP(data, "GetDeviceInformationResponse", &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func decodeCapabilities(data []byte) (*Capabilities, error) {
	var r capabilitiesResponseXML
	if err := parseSOAP(data, "GetCapabilitiesResponse", &r); err != nil {
		return nil, err
	}
	return r.toCapabilities(), nil
}

func decodeServices(data []byte) ([]Service, error) {
	var r servicesResponseXML
	if err := parseSOAP(data, "GetServicesResponse", &r); err != nil {
		return nil, err
	}
	return r.toServices(), nil
}

func decodeProfiles(data []byte) ([]Profile, error) {
	var r profilesResponseXML
	if err := parseSOAP(data, "GetProfilesResponse", &r); err != nil {
		return nil, err
	}
	return r.toProfiles(), nil
}

func decodeMediaURI(want string) func([]byte) (string, error) {
	return func(data []byte) (string, error) {
		var r mediaURIResponseXML
		if err := parseSOAP(data, want, &r); err != nil {
			return "", err
		}
		return r.uri(want)
	}
}

func decodePresets(data []byte) ([]Preset, error) {
	var r presetsResponseXML
	if err := parseSOAP(data, "GetPresetsResponse", &r); err != nil {
		return nil, err
	}
	return r.toPresets(), nil
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// vendorProfiles are the tokens and names each simulated vendor uses.
var vendorProfiles = map[string][2][2]string{
	"hikvision": {{"Profile_1", "mainStream"}, {"Profile_2", "subStream"}},
	"dahua":     {{"MediaProfile000", "MediaProfile_Channel1_MainStream"}, {"MediaProfile001", "MediaProfile_Channel1_SubStream1"}},
	"axis":      {{"profile_1_h264", "profile_1 h264"}, {"profile_2_h264", "profile_2 h264"}},
}

var vendorSources = map[string]string{"hikvision": "VideoSource_1", "dahua": "00000", "axis": "0"}

var vendorAudio = map[string]*AudioEncoder{
	"hikvision": {Token: "AudioEncoderToken_1", Codec: "G711", BitrateKbps: 64, SampleRateKHz: 8},
	"dahua":     {Token: "00000", Codec: "AAC", BitrateKbps: 32, SampleRateKHz: 16},
	"axis":      nil,
}

func TestParseProfiles(t *testing.T) {
	type want struct {
		profiles []Profile
		err      error
	}
	cases := map[string]want{
		"soap/GetProfiles_nvr_default_ns.xml": {profiles: []Profile{
			{Token: "ch1_main", Name: "Camera 1 Main", Fixed: true, VideoSourceToken: "VideoSource_1",
				Video: &VideoEncoder{Token: "vec1", Codec: CodecH265, Width: 2560, Height: 1440, FPS: 20, BitrateKbps: 6144},
				Audio: &AudioEncoder{Token: "aec1", Codec: "G726", BitrateKbps: 16, SampleRateKHz: 8}},
			{Token: "ch1_sub", Name: "Camera 1 Sub", Fixed: true, VideoSourceToken: "VideoSource_1",
				Video: &VideoEncoder{Token: "vec2", Codec: CodecH264, Width: 704, Height: 576, FPS: 13, BitrateKbps: 512, GovLength: 50, CodecProfile: "Baseline"}},
			{Token: "ch2_main", Name: "Camera 2 Main", Fixed: true, VideoSourceToken: "VideoSource_2", PTZ: true,
				Video: &VideoEncoder{Token: "vec3", Codec: CodecJPEG, Width: 1280, Height: 720, FPS: 5, BitrateKbps: 2048}},
			{Token: "metadata_only", Name: "Metadata"},
		}},
		"soap/GetProfiles_local_ns_latin1.xml": {profiles: []Profile{
			{Token: "0", Name: "Caméra entrée", VideoSourceToken: "vs0",
				Video: &VideoEncoder{Token: "ve0", Codec: CodecH264, Width: 1920, Height: 1080, FPS: 30, GovLength: 60, CodecProfile: "High"}},
		}},
		"soap/GetProfiles_truncated.xml":    {err: ErrBadResponse},
		"soap/not_onvif.html":               {err: ErrNotONVIF},
		"soap/wrong_body.xml":               {err: ErrBadResponse},
		"sim/hikvision/Fault_NoProfile.xml": {err: &FaultError{}},
	}
	for vendor, toks := range vendorProfiles {
		var ps []Profile
		for i, sz := range [][4]int{{1920, 1080, 25, 4096}, {640, 360, 15, 512}} {
			prof := map[string]string{"hikvision": "Main", "dahua": "High", "axis": "High"}[vendor]
			encTok := map[string][]string{
				"hikvision": {"VideoEncoderToken_1", "VideoEncoderToken_2"},
				"dahua":     {"00000", "00001"},
				"axis":      {"default_1_h264", "default_2_h264"},
			}[vendor][i]
			ps = append(ps, Profile{
				Token: toks[i][0], Name: toks[i][1], Fixed: vendor != "axis", VideoSourceToken: vendorSources[vendor], PTZ: true,
				Video: &VideoEncoder{Token: encTok, Codec: CodecH264, Width: sz[0], Height: sz[1], FPS: sz[2], BitrateKbps: sz[3], GovLength: 2 * sz[2], CodecProfile: prof},
				Audio: vendorAudio[vendor],
			})
			if vendor == "dahua" && ps[i].Audio != nil {
				a := *ps[i].Audio
				a.Token = encTok
				ps[i].Audio = &a
			}
		}
		cases["sim/"+vendor+"/GetProfiles.xml"] = want{profiles: ps}
	}
	for file, w := range cases {
		t.Run(file, func(t *testing.T) {
			got, err := decodeProfiles(readTestdata(t, file))
			if w.err != nil {
				if _, isFault := w.err.(*FaultError); isFault {
					if _, ok := errors.AsType[*FaultError](err); !ok {
						t.Fatalf("err = %v, want a *FaultError", err)
					}
					return
				}
				if !errors.Is(err, w.err) {
					t.Fatalf("err = %v, want %v", err, w.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, w.profiles) {
				t.Errorf("got\n%s\nwant\n%s", dump(got), dump(w.profiles))
			}
		})
	}
}

func dump(ps []Profile) string {
	var s string
	for _, p := range ps {
		s += "  " + sprintf("%+v", p)
		if p.Video != nil {
			s += sprintf(" video=%+v", *p.Video)
		}
		if p.Audio != nil {
			s += sprintf(" audio=%+v", *p.Audio)
		}
		s += "\n"
	}
	return s
}

var goldenTime = time.Date(2024, 5, 1, 8, 30, 15, 0, time.UTC)

func TestParseSystemDateAndTime(t *testing.T) {
	cases := map[string]SystemDateTime{
		"sim/hikvision/GetSystemDateAndTime.xml":   {UTC: goldenTime, TimeZone: "CST-8:00:00", DateTimeType: "Manual"},
		"sim/dahua/GetSystemDateAndTime.xml":       {UTC: goldenTime, TimeZone: "CST-8", DateTimeType: "NTP"},
		"sim/axis/GetSystemDateAndTime.xml":        {UTC: goldenTime, TimeZone: "CET-1", DateTimeType: "NTP"},
		"soap/GetSystemDateAndTime_local_only.xml": {UTC: time.Date(2024, 2, 29, 18, 5, 9, 0, time.UTC), TimeZone: "CST-8", DateTimeType: "Manual"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			got, err := decodeSystemDateAndTime(readTestdata(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if *got != want {
				t.Errorf("got %+v, want %+v", *got, want)
			}
		})
	}
}

func TestPOSIXTZOffset(t *testing.T) {
	cases := map[string]time.Duration{
		"CST-8": -8 * time.Hour, "CST-8:00:00": -8 * time.Hour, "GMT0": 0, "EST5EDT,M3.2.0,M11.1.0": 5 * time.Hour,
		"<+0330>-3:30": -(3*time.Hour + 30*time.Minute), "UTC+1": time.Hour, "NZST-12NZDT": -12 * time.Hour,
	}
	for tz, want := range cases {
		got, ok := posixTZOffset(tz)
		if !ok || got != want {
			t.Errorf("posixTZOffset(%q) = %v, %v; want %v", tz, got, ok, want)
		}
	}
	for _, bad := range []string{"", "8", "X-8", "<+03", "CST-99"} {
		if _, ok := posixTZOffset(bad); ok {
			t.Errorf("posixTZOffset(%q) ok, want not", bad)
		}
	}
}

func TestParseDeviceInformation(t *testing.T) {
	want := map[string]deviceInformationXML{
		"hikvision": {"HIKVISION", "DS-2DE4425IW-DE", "V5.7.3 build 220112", "DS-2DE4425IW-DE20220101AAWRJ00000000", "88"},
		"dahua":     {"Dahua", "SD49225XA-HNR", "2.800.0000000.30.R, Build Date 2021-03-18", "6J0A000PAZ00000", "1.00"},
		"axis":      {"AXIS", "Q6075-E", "10.12.114", "ACCC8E000001", "7B3"},
	}
	for vendor, w := range want {
		got, err := decodeDeviceInformation(readTestdata(t, "sim/"+vendor+"/GetDeviceInformation.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if *got != w {
			t.Errorf("%s: got %+v, want %+v", vendor, *got, w)
		}
	}
}

func TestParseCapabilitiesAndServices(t *testing.T) {
	paths := map[string][3]string{ // media, ptz, events
		"hikvision": {"/onvif/Media", "/onvif/PTZ", "/onvif/Events"},
		"dahua":     {"/onvif/media_service", "/onvif/ptz_service", "/onvif/event_service"},
		"axis":      {"/onvif/services", "/onvif/services", "/onvif/services"},
	}
	const base = "http://192.168.1.64"
	for vendor, p := range paths {
		c, err := decodeCapabilities(readTestdata(t, "sim/"+vendor+"/GetCapabilities.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Device != base+"/onvif/device_service" || c.Media != base+p[0] || c.PTZ != base+p[1] || c.Events != base+p[2] {
			t.Errorf("%s: capabilities %+v", vendor, c)
		}
		if c.Extensions["DeviceIO"] == "" {
			t.Errorf("%s: no DeviceIO in extensions %v", vendor, c.Extensions)
		}
		svcs, err := decodeServices(readTestdata(t, "sim/"+vendor+"/GetServices.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(svcs) != 7 {
			t.Errorf("%s: %d services, want 7 (all of them): %+v", vendor, len(svcs), svcs)
		}
	}
	svcs, err := decodeServices(readTestdata(t, "soap/GetServices_many.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{
		{NamespaceDevice, "http://10.1.1.20/onvif/device_service", "19.6"},
		{NamespaceMedia2, "http://10.1.1.20/onvif/media2_service", "19.6"},
		{NamespaceMedia, "http://10.1.1.20/onvif/media_service", "18.12"},
		{NamespacePTZ, "http://10.1.1.20/onvif/ptz_service", "2.50"},
		{NamespaceEvents, "http://10.1.1.20/onvif/event_service", "2.60"},
	}
	if !reflect.DeepEqual(svcs, want) {
		t.Errorf("services = %+v", svcs)
	}
}

func TestParseMediaURIs(t *testing.T) {
	want := map[string][2]string{
		"hikvision": {"rtsp://192.168.1.64:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1", "http://192.168.1.64/snapshot.jpg?profile=Profile_1"},
		"dahua":     {"rtsp://192.168.1.64:554/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif", "http://192.168.1.64/snapshot.jpg?profile=MediaProfile000"},
		"axis":      {"rtsp://192.168.1.64/onvif-media/media.amp?profile=profile_1_h264&sessiontimeout=60&streamtype=unicast", "http://192.168.1.64/snapshot.jpg?profile=profile_1_h264"},
	}
	for vendor, w := range want {
		s, err := decodeMediaURI("GetStreamUriResponse")(readTestdata(t, "sim/"+vendor+"/GetStreamUri.xml"))
		if err != nil || s != w[0] {
			t.Errorf("%s stream: %q, %v", vendor, s, err)
		}
		s, err = decodeMediaURI("GetSnapshotUriResponse")(readTestdata(t, "sim/"+vendor+"/GetSnapshotUri.xml"))
		if err != nil || s != w[1] {
			t.Errorf("%s snapshot: %q, %v", vendor, s, err)
		}
		// The wrong reply for the operation is an error, not an empty URI.
		if _, err := decodeMediaURI("GetSnapshotUriResponse")(readTestdata(t, "sim/"+vendor+"/GetStreamUri.xml")); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: stream reply parsed as snapshot: %v", vendor, err)
		}
	}
}

func TestParsePresets(t *testing.T) {
	got, err := decodePresets(readTestdata(t, "soap/GetPresets_many.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("%d presets, want all 12", len(got))
	}
	if p := got[0]; p.Token != "1" || p.Name != "Gate" || p.Position == nil || *p.Position != (PTZVector{0.125, -0.5, 0.25}) {
		t.Errorf("preset 1 = %+v %+v", p, p.Position)
	}
	if p := got[1]; p.Name != "Parking & lot" || *p.Position != (PTZVector{1, 1, 0}) {
		t.Errorf("preset 2 = %+v", p)
	}
	if p := got[11]; p.Token != "255" || p.Name != "" || p.Position != nil {
		t.Errorf("preset 255 = %+v", p)
	}
	for _, vendor := range []string{"hikvision", "dahua", "axis"} {
		got, err := decodePresets(readTestdata(t, "sim/"+vendor+"/GetPresets.xml"))
		if err != nil || len(got) != 4 {
			t.Errorf("%s: %d presets, %v", vendor, len(got), err)
		}
	}
}

func TestParseFaults(t *testing.T) {
	cases := map[string]FaultError{
		"sim/hikvision/Fault_NotAuthorized.xml": {Code: "Sender", Subcode: "NotAuthorized", Subcodes: []string{"NotAuthorized"}, Reason: "Sender not Authorized"},
		"sim/dahua/Fault_NoProfile.xml":         {Code: "Sender", Subcode: "NoProfile", Subcodes: []string{"InvalidArgVal", "NoProfile"}, Reason: "The requested profile token ProfileToken does not exist."},
		"sim/axis/Fault_NotAuthorized.xml":      {Code: "Sender", Subcode: "NotAuthorized", Subcodes: []string{"NotAuthorized"}, Reason: "Sender not Authorized"},
		"soap/Fault_nested_default_ns.xml":      {Code: "Sender", Subcode: "NoProfile", Subcodes: []string{"InvalidArgVal", "NoProfile"}, Reason: "The requested profile token ProfileToken does not exist."},
		"soap/Fault_soap11.xml":                 {Code: "Client", Reason: "Authentication failed"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			err := checkResponse(400, readTestdata(t, file), "GetProfilesResponse", &profilesResponseXML{})
			fe, ok := errors.AsType[*FaultError](err)
			if !ok {
				t.Fatalf("err = %v, want a fault", err)
			}
			want.HTTPStatus = 400
			if !reflect.DeepEqual(*fe, want) {
				t.Errorf("got %+v, want %+v", *fe, want)
			}
			if errors.Is(err, ErrUnauthorized) != (want.Subcode == "NotAuthorized") {
				t.Errorf("errors.Is(ErrUnauthorized) = %v", errors.Is(err, ErrUnauthorized))
			}
		})
	}
}

func TestCheckResponseStatus(t *testing.T) {
	ok := readTestdata(t, "sim/axis/GetDeviceInformation.xml")
	html := readTestdata(t, "soap/not_onvif.html")
	cases := []struct {
		name   string
		status int
		body   []byte
		want   error
	}{
		{"200 ok", 200, ok, nil},
		{"200 html", 200, html, ErrNotONVIF},
		{"404 html", 404, html, ErrNotONVIF},
		{"404 empty", 404, nil, ErrNotONVIF},
		{"200 empty", 200, nil, ErrNotONVIF},
		{"200 garbage", 200, []byte("\x00\x01garbage"), ErrNotONVIF},
		{"401 no body", 401, nil, ErrUnauthorized},
		{"403 html", 403, html, ErrUnauthorized},
		{"401 fault", 401, readTestdata(t, "sim/dahua/Fault_NotAuthorized.xml"), ErrUnauthorized},
		{"400 auth fault", 400, readTestdata(t, "sim/dahua/Fault_NotAuthorized.xml"), ErrUnauthorized},
		{"500 valid reply", 500, ok, ErrBadResponse},
		{"200 truncated", 200, ok[:len(ok)-30], ErrBadResponse},
		{"200 trailing element", 200, append(append([]byte{}, ok...), "<x/>"...), ErrBadResponse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r deviceInformationXML
			err := checkResponse(c.status, c.body, "GetDeviceInformationResponse", &r)
			if c.want == nil {
				if err != nil || r.Manufacturer != "AXIS" {
					t.Fatalf("err = %v, info %+v", err, r)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
