package manscdp

import (
	"errors"
	"strings"
	"time"
)

// TimeLayout is the MANSCDP date-time (GB/T 28181-2016 A.2.1 dateTime):
// local time without a zone.
const TimeLayout = "2006-01-02T15:04:05"

// ErrTime is returned by ParseTime for a value it cannot read.
var ErrTime = errors.New("manscdp: unreadable time")

// FormatTime writes t as TimeLayout in t's own location; the zero time is
// written as the empty string.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(TimeLayout)
}

// ParseTime reads a MANSCDP time in loc (nil means time.Local). It accepts
// what devices send besides TimeLayout: a space instead of the T, slashes
// in the date, milliseconds, missing seconds, a date alone, and a trailing
// Z, which devices append to local time without meaning UTC and is
// therefore ignored. An explicit numeric offset (+08:00, +0800) is honoured.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	s = strings.TrimSpace(s)
	if len(s) < len("2006-01-02") {
		return time.Time{}, ErrTime
	}
	b := []byte(s)
	for i := 0; i < 10; i++ {
		if b[i] == '/' {
			b[i] = '-'
		}
	}
	if len(b) > 10 && (b[10] == ' ' || b[10] == 't') {
		b[10] = 'T'
	}
	s = strings.TrimRight(string(b), "Zz")
	if len(s) > 10 {
		// Collapse repeated spaces some firmware puts after the date.
		s = s[:10] + "T" + strings.TrimLeft(s[11:], " ")
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, ErrTime
}

var timeLayouts = [...]string{
	TimeLayout, // fractional seconds are accepted after "05" when parsing
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimeOrZero is ParseTime for payload fields: an unreadable time reads
// as the zero time instead of failing the message.
func parseTimeOrZero(s string, loc *time.Location) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}
