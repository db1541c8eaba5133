package onvif

import (
	"errors"
	"reflect"
	"testing"
)

func decodeProfiles2(data []byte) ([]Profile, error) {
	var r profiles2ResponseXML
	if err := parseSOAP(data, "GetProfilesResponse", &r); err != nil {
		return nil, err
	}
	return r.toProfiles(), nil
}

func decodeMedia2URI(want string) func([]byte) (string, error) {
	return func(data []byte) (string, error) {
		var r media2URIResponseXML
		if err := parseSOAP(data, want, &r); err != nil {
			return "", err
		}
		return r.uri(want)
	}
}

// media2Vendors are the Media2 GetProfiles renders of the simulator's
// H.265 camera (onvifsim.H265Profiles): the H.265 main stream and the H.264
// sub stream, in each vendor's shape.
var media2Vendors = map[string]struct {
	tokens       [2]string
	names        [2]string
	encoders     [2]string
	source       string
	fixed, ptz   bool
	fps          [2]int
	codecProfile [2]string
	audio        *AudioEncoder
}{
	"hikvision": {
		tokens: [2]string{"Profile_1", "Profile_2"}, names: [2]string{"mainStream", "subStream"},
		encoders: [2]string{"VideoEncoderToken_1", "VideoEncoderToken_2"}, source: "VideoSource_1", fixed: true, ptz: true,
		codecProfile: [2]string{"Main", "Main"},
		audio:        &AudioEncoder{Token: "AudioEncoderToken_1", Codec: "G711", BitrateKbps: 64, SampleRateKHz: 8},
	},
	"dahua": {
		tokens: [2]string{"MediaProfile000", "MediaProfile001"}, names: [2]string{"MediaProfile_Channel1_MainStream", "MediaProfile_Channel1_SubStream1"},
		encoders: [2]string{"00000", "00001"}, source: "00000", fixed: true, ptz: true,
		codecProfile: [2]string{"Main", "High"},
		audio:        &AudioEncoder{Codec: "AAC", BitrateKbps: 32, SampleRateKHz: 16}, // token: the encoder's
	},
	"axis": {
		tokens: [2]string{"profile_1_h264", "profile_2_h264"}, names: [2]string{"profile_1 h264", "profile_2 h264"},
		encoders: [2]string{"default_1_h264", "default_2_h264"}, source: "0", ptz: true,
		codecProfile: [2]string{"Main", "High"},
	},
}

func TestParseProfiles2(t *testing.T) {
	cases := map[string][]Profile{
		"soap/Media2_GetProfiles_nvr_default_ns.xml": {
			{Token: "ch1_main", Name: "Camera 1 Main", Fixed: true, VideoSourceToken: "VideoSource_1", PTZ: true,
				Video: &VideoEncoder{Token: "vec1", Codec: CodecH265, Width: 3840, Height: 2160, FPS: 13, BitrateKbps: 8192, GovLength: 40, CodecProfile: "Main10"},
				Audio: &AudioEncoder{Token: "aec1", Codec: "G711", BitrateKbps: 64, SampleRateKHz: 8}},
			{Token: "ch1_sub", Name: "Camera 1 Sub", VideoSourceToken: "VideoSource_1",
				Video: &VideoEncoder{Token: "vec2", Codec: CodecMPEG4, Width: 704, Height: 576, FPS: 25, BitrateKbps: 1024, GovLength: 25}},
			{Token: "bare", Name: "Created by a client"},
			{Token: "empty", Name: "Empty"},
		},
	}
	for vendor, w := range media2Vendors {
		var ps []Profile
		for i, v := range []VideoEncoder{
			{Codec: CodecH265, Width: 2560, Height: 1440, FPS: 25, BitrateKbps: 4096, GovLength: 50},
			{Codec: CodecH264, Width: 640, Height: 360, FPS: 15, BitrateKbps: 512, GovLength: 30},
		} {
			v.Token, v.CodecProfile = w.encoders[i], w.codecProfile[i]
			p := Profile{Token: w.tokens[i], Name: w.names[i], Fixed: w.fixed, VideoSourceToken: w.source, PTZ: w.ptz, Video: &v}
			if w.audio != nil {
				a := *w.audio
				if a.Token == "" {
					a.Token = w.encoders[i]
				}
				p.Audio = &a
			}
			ps = append(ps, p)
		}
		cases["sim/"+vendor+"/Media2_GetProfiles.xml"] = ps
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			got, err := decodeProfiles2(readTestdata(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
			}
		})
	}

	// Media (ver10) of the same camera lists the H.264 sub stream alone.
	for vendor, w := range media2Vendors {
		got, err := decodeProfiles(readTestdata(t, "sim/"+vendor+"/Media2_GetProfilesMedia1.xml"))
		if err != nil || len(got) != 1 || got[0].Token != w.tokens[1] || got[0].Video.Codec != CodecH264 {
			t.Errorf("%s: Media lists %+v, %v; want the sub stream only", vendor, got, err)
		}
	}

	for file, want := range map[string]error{
		"soap/GetProfiles_truncated.xml":     ErrBadResponse,
		"soap/not_onvif.html":                ErrNotONVIF,
		"soap/wrong_body.xml":                ErrBadResponse,
		"soap/Fault_ActionNotSupported.xml":  &FaultError{},
		"sim/dahua/Media2_GetStreamUri.xml":  ErrBadResponse,
		"sim/axis/Media2_GetSnapshotUri.xml": ErrBadResponse,
	} {
		_, err := decodeProfiles2(readTestdata(t, file))
		if _, fault := want.(*FaultError); fault {
			if fe, ok := errors.AsType[*FaultError](err); !ok || fe.Subcode != "ActionNotSupported" {
				t.Errorf("%s: err = %v, want the fault", file, err)
			}
			continue
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", file, err, want)
		}
	}
}

func TestParseMedia2URIs(t *testing.T) {
	want := map[string][2]string{
		"hikvision": {"rtsp://192.168.1.64:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1", "http://192.168.1.64/snapshot.jpg?profile=Profile_1"},
		"dahua":     {"rtsp://192.168.1.64:554/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif", "http://192.168.1.64/snapshot.jpg?profile=MediaProfile000"},
		"axis":      {"rtsp://192.168.1.64/onvif-media/media.amp?profile=profile_1_h264&sessiontimeout=60&streamtype=unicast", "http://192.168.1.64/snapshot.jpg?profile=profile_1_h264"},
	}
	for vendor, w := range want {
		s, err := decodeMedia2URI("GetStreamUriResponse")(readTestdata(t, "sim/"+vendor+"/Media2_GetStreamUri.xml"))
		if err != nil || s != w[0] {
			t.Errorf("%s stream: %q, %v", vendor, s, err)
		}
		s, err = decodeMedia2URI("GetSnapshotUriResponse")(readTestdata(t, "sim/"+vendor+"/Media2_GetSnapshotUri.xml"))
		if err != nil || s != w[1] {
			t.Errorf("%s snapshot: %q, %v", vendor, s, err)
		}
		// Media's reply shape (Uri inside MediaUri) is not Media2's.
		if _, err := decodeMedia2URI("GetStreamUriResponse")(readTestdata(t, "sim/"+vendor+"/GetStreamUri.xml")); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: a Media reply read as Media2: %v", vendor, err)
		}
	}
	if s, err := decodeMedia2URI("GetStreamUriResponse")(readTestdata(t, "soap/Media2_GetStreamUri_spaces.xml")); err != nil || s != "rtsp://10.1.1.20:554/unicast/c1/s0/live" {
		t.Errorf("URI with spaces: %q, %v", s, err)
	}
}

func TestNormalizeCodecs(t *testing.T) {
	video := map[string]string{"H264": CodecH264, "h.264": CodecH264, "H265": CodecH265, "HEVC": CodecH265, "H.265": CodecH265,
		"JPEG": CodecJPEG, "MPV4-ES": CodecMPEG4, "MPEG4": CodecMPEG4, "av1": "AV1"}
	for in, want := range video {
		if got := normalizeCodec(in); got != want {
			t.Errorf("normalizeCodec(%q) = %q, want %q", in, got, want)
		}
	}
	audio := map[string]string{"G711": "G711", "PCMU": "G711", "pcma": "G711", "G726": "G726", "AAC": "AAC",
		"MP4A-LATM": "AAC", "mpeg4-generic": "AAC", " opus ": "OPUS"}
	for in, want := range audio {
		if got := normalizeAudioCodec(in); got != want {
			t.Errorf("normalizeAudioCodec(%q) = %q, want %q", in, got, want)
		}
	}
}
