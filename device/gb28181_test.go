package device

import "testing"

func TestKindFromID(t *testing.T) {
	tests := []struct{ id, want string }{
		{"34", KindCivilCode},
		{"340200", KindCivilCode},
		{"34020001", KindCivilCode},
		{"34020000002150000001", KindBusinessGroup},
		{"34020000002160000001", KindVirtualOrg},
		{"34020000001320000001", KindChannel},
		{"34020000001180000001", KindChannel}, // an NVR's own ID: only the caller can tell
		{"3", KindChannel},
		{"340200001", KindChannel},
		{"3402000000215000000A", KindChannel},
		{"", KindChannel},
	}
	for _, tt := range tests {
		if got := KindFromID(tt.id); got != tt.want {
			t.Errorf("KindFromID(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
