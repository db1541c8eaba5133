package manscdp

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Field values are parsed leniently: devices pad numbers with spaces, write
// "5.0" where an integer belongs, or leave a field empty. A value that does
// not parse reads as zero rather than failing the message.

func squeeze(s string) string {
	if strings.IndexFunc(s, unicode.IsSpace) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func atoi(s string) int {
	return int(atoi64(s))
}

func atoi64(s string) int64 {
	s = squeeze(s)
	if s == "" {
		return 0
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && math.Abs(f) < math.MaxInt64/2 {
		return int64(f)
	}
	return 0
}

func atof(s string) float64 {
	s = squeeze(s)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// Channel status values (A.2.6 Catalog Status).
const (
	StatusOn  = "ON"
	StatusOff = "OFF"
)

// normStatus maps the spellings of a channel status that devices use to
// StatusOn or StatusOff, and keeps anything else as sent (upper-cased).
func normStatus(s string) string {
	switch u := strings.ToUpper(squeeze(s)); u {
	case "ON", "OK", "ONLINE", "TRUE", "1":
		return StatusOn
	case "OFF", "OFFLINE", "FALSE", "0":
		return StatusOff
	default:
		return u
	}
}

// canonicalCmdType returns the standard spelling of a known CmdType.
func canonicalCmdType(s string) string {
	for _, c := range knownCmdTypes {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	return s
}
