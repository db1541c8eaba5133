package manscdp

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 3, 18, 10, 21, 7, 0, shanghai)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2024-03-18T10:21:07", want},
		{" 2024-03-18T10:21:07 ", want},
		{"2024-03-18 10:21:07", want},
		{"2024-03-18  10:21:07", want},
		{"2024/03/18 10:21:07", want},
		{"2024-03-18t10:21:07", want},
		{"2024-03-18T10:21:07Z", want},
		{"2024-03-18T10:21:07.125", want.Add(125 * time.Millisecond)},
		{"2024-03-18T10:21:07.125Z", want.Add(125 * time.Millisecond)},
		{"2024-03-18T10:21", want.Add(-7 * time.Second)},
		{"2024-03-18", time.Date(2024, 3, 18, 0, 0, 0, 0, shanghai)},
		{"2024-03-18T02:21:07+00:00", want},
		{"2024-03-18T11:21:07+0900", want},
	} {
		got, err := ParseTime(c.in, shanghai)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "yesterday", "2024-13-40T10:21:07", "2024-03-18T25:00:00", "1710728467"} {
		if _, err := ParseTime(in, shanghai); !errors.Is(err, ErrTime) {
			t.Errorf("%q: %v", in, err)
		}
	}
	if got, _ := ParseTime("2024-03-18T10:21:07", nil); got.Location() != time.Local {
		t.Errorf("nil location gave %v", got.Location())
	}
}

func TestFormatTime(t *testing.T) {
	if s := FormatTime(time.Date(2024, 3, 18, 10, 21, 7, 999, shanghai)); s != "2024-03-18T10:21:07" {
		t.Error(s)
	}
	if s := FormatTime(time.Time{}); s != "" {
		t.Error(s)
	}
}
