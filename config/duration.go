package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "10s" or "1m30s", or as a plain number of seconds.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does, e.g. "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d as a string such as "1m30s", which reads back unchanged.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads "1m30s" or a number of seconds. A bad value is reported as a
// *yaml.TypeError so that the decoder carries on and reports every bad key in one go.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration such as 10s or 1m30s", node.Line)}}
	}
	v, err := parseDuration(node.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", node.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalText writes d as a string such as "1m30s", so JSON shows the same form as YAML.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "1m30s" or a number of seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// maxSeconds is the largest number of seconds a time.Duration holds (about 292 years).
const maxSeconds = math.MaxInt64 / int64(time.Second)

// parseDuration reads a time.ParseDuration string, or an integer meaning seconds because a bare
// "30" is what people write for a timeout.
func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > maxSeconds || n < -maxSeconds {
			return 0, fmt.Errorf("%q seconds is out of range", s)
		}
		return Duration(time.Duration(n) * time.Second), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 10s or 1m30s", s)
	}
	return Duration(v), nil
}
