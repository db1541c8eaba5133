package web

import (
	"testing"
)

func TestRoutePaths(t *testing.T) {
	for _, tc := range []struct {
		path, gin, param, suffix string
	}{
		{"/api/v1/devices/{id}", "/api/v1/devices/:id", "", ""},
		{"/live/{stream}.flv", "/live/:stream", "stream", ".flv"},
		{"/live/{stream}/{file}", "/live/:stream/:file", "", ""},
		{"/ws/live/{stream}.mp4", "/ws/live/:stream", "stream", ".mp4"},
	} {
		rt := route{path: tc.path}
		if g := rt.ginPath(); g != tc.gin {
			t.Errorf("%s: ginPath = %s, want %s", tc.path, g, tc.gin)
		}
		if p, s := rt.suffix(); p != tc.param || s != tc.suffix {
			t.Errorf("%s: suffix = %q %q", tc.path, p, s)
		}
	}
}
