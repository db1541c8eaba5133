package config

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// durationCases drives the YAML, text and marshal tests alike.
var durationCases = []struct {
	yaml string
	want time.Duration
	err  string // substring of the error; empty when valid
}{
	{"10s", 10 * time.Second, ""},
	{"1m30s", 90 * time.Second, ""},
	{"250ms", 250 * time.Millisecond, ""},
	{"24h", 24 * time.Hour, ""},
	{"30", 30 * time.Second, ""},
	{`"30"`, 30 * time.Second, ""},
	{"0", 0, ""},
	{"-5", -5 * time.Second, ""}, // accepted here, refused by Validate with the key's name
	{"10x", 0, `"10x" is not a duration`},
	{"1.5", 0, `"1.5" is not a duration`},
	{"ten", 0, `"ten" is not a duration`},
	{"99999999999999999", 0, "out of range"},
	{"[1, 2]", 0, "want a duration"},
}

func TestDurationUnmarshalYAML(t *testing.T) {
	for _, tt := range durationCases {
		t.Run(tt.yaml, func(t *testing.T) {
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("d: "+tt.yaml), &v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "line 1") {
					t.Fatalf("error %v, want one on line 1 containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.D.Std() != tt.want {
				t.Errorf("got %v, want %v", v.D, tt.want)
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	for _, tt := range durationCases {
		if strings.HasPrefix(tt.yaml, "[") || strings.HasPrefix(tt.yaml, `"`) {
			continue // YAML syntax, not a value
		}
		var d Duration
		err := d.UnmarshalText([]byte(tt.yaml))
		if (err != nil) != (tt.err != "") || d.Std() != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v", tt.yaml, d, err)
		}
	}
}

func TestDurationMarshalRoundTrip(t *testing.T) {
	for _, tt := range durationCases {
		if tt.err != "" {
			continue
		}
		in := Duration(tt.want)
		out, err := yaml.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if back != in {
			t.Errorf("%v marshalled as %q read back as %v", in, out, back)
		}
		if text, _ := in.MarshalText(); string(text) != in.String() {
			t.Errorf("MarshalText = %q, want %q", text, in.String())
		}
	}
}
