package device

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecordingScheduleJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"names", `[{"days":["mon","Tuesday"],"start":"08:00","end":"18:30"}]`, `[{"days":["mon","tue"],"start":"08:00","end":"18:30"}]`, ""},
		{"iso numbers", `[{"days":[1,7,"6"],"start":"00:00","end":"24:00"}]`, `[{"days":["mon","sun","sat"],"start":"00:00","end":"24:00"}]`, ""},
		{"duplicate days", `[{"days":["fri","fri"],"start":"22:00","end":"06:00"}]`, `[{"days":["fri"],"start":"22:00","end":"06:00"}]`, ""},
		{"day 0", `[{"days":[0],"start":"08:00","end":"09:00"}]`, "", "day 0 is not 1 (Monday) to 7 (Sunday)"},
		{"bad name", `[{"days":["mo"],"start":"08:00","end":"09:00"}]`, "", `"mo" is not a day`},
		{"bad time", `[{"days":["mon"],"start":"8","end":"09:00"}]`, "", `"8" is not a time of day`},
		{"24:30", `[{"days":["mon"],"start":"08:00","end":"24:30"}]`, "", `"24:30" is not a time of day`},
		{"not a rule", `[1]`, "", "a schedule rule is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseRecordingSchedule(tc.in)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrInvalid with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := s.Encode(); got != tc.want {
				t.Errorf("Encode = %s, want %s", got, tc.want)
			}
			// What Encode writes reads back the same.
			back, err := ParseRecordingSchedule(s.Encode())
			if err != nil || back.Encode() != tc.want {
				t.Errorf("round trip: %v %v", back, err)
			}
		})
	}
}

func TestRecordingScheduleValidate(t *testing.T) {
	for name, s := range map[string]RecordingSchedule{
		"empty":      nil,
		"no days":    {{Start: 0, End: 60}},
		"same times": {{Days: []time.Weekday{time.Monday}, Start: 60, End: 60}},
		"too late":   {{Days: []time.Weekday{time.Monday}, Start: 0, End: 1441}},
	} {
		if err := s.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}

func TestRecordingScheduleActive(t *testing.T) {
	var s RecordingSchedule
	if err := json.Unmarshal([]byte(`[
		{"days":["mon","tue","wed","thu","fri"],"start":"08:00","end":"18:00"},
		{"days":["fri"],"start":"22:00","end":"06:00"},
		{"days":["sun"],"start":"00:00","end":"24:00"}]`), &s); err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("test", 8*3600)
	at := func(day, hh, mm int) time.Time { // 2026-03-02 is a Monday
		return time.Date(2026, 3, 2+day, hh, mm, 0, 0, loc)
	}
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{at(0, 7, 59), false},
		{at(0, 8, 0), true},
		{at(0, 17, 59), true},
		{at(0, 18, 0), false},
		{at(4, 21, 59), false}, // Friday evening
		{at(4, 22, 0), true},
		{at(5, 5, 59), true}, // Saturday morning, from Friday's rule
		{at(5, 6, 0), false},
		{at(5, 23, 0), false},
		{at(6, 0, 0), true}, // Sunday, all day
		{at(6, 23, 59), true},
		{at(7, 0, 30), false}, // Monday night: Sunday's rule ends at 24:00
	} {
		if got := s.Active(tc.t); got != tc.want {
			t.Errorf("Active(%s) = %v, want %v", tc.t.Format("Mon 15:04"), got, tc.want)
		}
	}
}
