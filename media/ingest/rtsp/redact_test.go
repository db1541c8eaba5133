package rtsp

import "testing"

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rtsp://admin:secret@10.0.0.1:554/Streaming/101", "rtsp://admin:***@10.0.0.1:554/Streaming/101"},
		{"rtsp://admin@10.0.0.1/live", "rtsp://admin@10.0.0.1/live"},
		{"rtsp://10.0.0.1/live", "rtsp://10.0.0.1/live"},
		{"rtsp://admin:@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"},
		{"rtsp://admin:p%40ss@10.0.0.1/live?a=1", "rtsp://admin:***@10.0.0.1/live?a=1"},
		// Unescaped special characters that net/url rejects.
		{"rtsp://admin:p@ss#1@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"},
		{"rtsp://admin:50%off@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"},
		{"", ""},
		{"not a url", "not a url"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactSlashInPassword(t *testing.T) {
	if got := Redact("rtsp://admin:a/b@10.0.0.1/live"); got != "rtsp://admin:***@10.0.0.1/live" {
		t.Errorf("got %q", got)
	}
}
