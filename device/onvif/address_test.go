package onvif

import (
	"net/url"
	"testing"
)

func TestParseAddress(t *testing.T) {
	cases := []struct{ in, want, user string }{
		{"192.168.1.64", "http://192.168.1.64/onvif/device_service", ""},
		{" cam.local:8080 ", "http://cam.local:8080/onvif/device_service", ""},
		{"fe80::1", "http://[fe80::1]/onvif/device_service", ""},
		{"[::1]:8000", "http://[::1]:8000/onvif/device_service", ""},
		{"http://10.0.0.5", "http://10.0.0.5/onvif/device_service", ""},
		{"https://10.0.0.5/", "https://10.0.0.5/onvif/device_service", ""},
		{"http://10.0.0.5:81/onvif/services#x", "http://10.0.0.5:81/onvif/services", ""},
		{"http://admin:pw@10.0.0.5/onvif/device_service", "http://10.0.0.5/onvif/device_service", "admin"},
	}
	for _, c := range cases {
		u, ui, err := ParseAddress(c.in)
		if err != nil || u.String() != c.want || (ui == nil) != (c.user == "") || (ui != nil && ui.Username() != c.user) {
			t.Errorf("ParseAddress(%q) = %v, %v, %v; want %s", c.in, u, ui, err, c.want)
		}
	}
	for _, bad := range []string{"", "rtsp://cam/", "http://", "http://%zz"} {
		if _, _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) succeeded", bad)
		}
	}
}

func TestRewriteXAddr(t *testing.T) {
	given, _ := url.Parse("http://203.0.113.7:8080/onvif/device_service")
	cases := []struct {
		in, want  string
		rewritten bool
	}{
		{"http://192.168.1.64/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		{"http://10.0.0.2:80/onvif/media_service", "http://203.0.113.7:8080/onvif/media_service", true},
		{"http://172.16.5.5/onvif/services", "http://203.0.113.7:8080/onvif/services", true},
		{"http://169.254.1.2/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		{"http://100.64.0.9/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		{"http://127.0.0.1/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		{"http://localhost/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		{"http://0.0.0.0/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		{"http://[fd00::5]/onvif/Media", "http://203.0.113.7:8080/onvif/Media", true},
		// The host we used, or a public or named host: kept.
		{"http://203.0.113.7:8080/onvif/Media", "http://203.0.113.7:8080/onvif/Media", false},
		{"http://203.0.113.7/onvif/Media", "http://203.0.113.7/onvif/Media", false},
		{"http://198.51.100.1/onvif/Media", "http://198.51.100.1/onvif/Media", false},
		{"http://media.example.com/onvif/Media", "http://media.example.com/onvif/Media", false},
		{" http://198.51.100.1/x ", "http://198.51.100.1/x", false},
		{"not a url", "not a url", false},
	}
	for _, c := range cases {
		got, rw := rewriteXAddr(c.in, given)
		if got != c.want || rw != c.rewritten {
			t.Errorf("rewriteXAddr(%q) = %q, %v; want %q, %v", c.in, got, rw, c.want, c.rewritten)
		}
	}
	// A camera reached on its private address keeps it.
	lan, _ := url.Parse("http://192.168.1.64/onvif/device_service")
	if got, rw := rewriteXAddr("http://192.168.1.64/onvif/Media", lan); rw || got != "http://192.168.1.64/onvif/Media" {
		t.Errorf("same host rewritten: %s", got)
	}
}

func TestRewriteMediaURI(t *testing.T) {
	given, _ := url.Parse("http://cam.example.com:8080/onvif/device_service")
	cases := map[string]string{
		"rtsp://192.168.1.64:554/Streaming/Channels/101?transportmode=unicast": "rtsp://cam.example.com:554/Streaming/Channels/101?transportmode=unicast",
		"rtsp://192.168.1.64/onvif-media/media.amp?profile=p":                  "rtsp://cam.example.com/onvif-media/media.amp?profile=p",
		"rtsp://198.51.100.1:554/live":                                         "rtsp://198.51.100.1:554/live",
	}
	for in, want := range cases {
		if got, _ := rewriteMediaURI(in, given); got != want {
			t.Errorf("rewriteMediaURI(%q) = %q, want %q", in, got, want)
		}
	}
	v6, _ := url.Parse("http://[2001:db8::1]/onvif/device_service")
	if got, _ := rewriteMediaURI("rtsp://10.0.0.1/live", v6); got != "rtsp://[2001:db8::1]/live" {
		t.Errorf("IPv6: %s", got)
	}
	if got := stripUserinfo("rtsp://admin:12345@10.0.0.1:554/live"); got != "rtsp://10.0.0.1:554/live" {
		t.Errorf("stripUserinfo: %s", got)
	}
}
