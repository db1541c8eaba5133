package device

import "testing"

func TestMaskAndKeepPassword(t *testing.T) {
	const orig = "rtsp://admin:s3cr%40t@10.0.0.5:554/Streaming/101"
	m := MaskURL(orig)
	if m != "rtsp://admin:***@10.0.0.5:554/Streaming/101" {
		t.Fatalf("MaskURL = %q", m)
	}
	if got := KeepPassword(m, orig); got != orig {
		t.Fatalf("KeepPassword = %q, want %q", got, orig)
	}
	if got := KeepPassword("rtsp://admin:new@h/x", orig); got != "rtsp://admin:new@h/x" {
		t.Fatalf("a new password must win, got %q", got)
	}
	if MaskURL("rtsp://h/x") != "rtsp://h/x" {
		t.Fatal("URL without credentials changed")
	}
	if got := MaskURL("rtsp://u:p w@%zz/"); got != "rtsp://%zz/" {
		t.Fatalf("unparsable URL keeps its password: %q", got)
	}
}

func TestValidateRTSPURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"rtsp://127.0.0.1:8554/cam", true},
		{"rtsps://cam.local/x", true},
		{"http://cam/x", false},
		{"rtsp:///x", false},
		{"", false},
	} {
		if err := ValidateRTSPURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v", tc.url, err)
		}
	}
}
