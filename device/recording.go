package device

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RecordMode says when a channel is recorded. The value is stored in the database, so it never
// changes once released.
type RecordMode string

// Recording modes.
const (
	// RecordOff: the channel is not recorded.
	RecordOff RecordMode = "off"
	// RecordContinuous: the channel is recorded all the time.
	RecordContinuous RecordMode = "continuous"
	// RecordSchedule: the channel is recorded when RecordingPolicy.Schedule says.
	RecordSchedule RecordMode = "schedule"
)

// Valid reports whether m is one of the recording modes.
func (m RecordMode) Valid() bool {
	return m == RecordOff || m == RecordContinuous || m == RecordSchedule
}

// Recording is one recorded segment file of a channel: an fMP4 file holding Start to End of the
// channel's stream. Start and End have millisecond precision.
type Recording struct {
	ID        int64
	ChannelID int64
	// Stream is the name of the recorded stream (e.g. "ch12").
	Stream string
	Start  time.Time
	End    time.Time
	// Bytes is the size of the file.
	Bytes int64
	// Codecs lists the tracks as RFC 6381 codec strings, video first, comma separated.
	Codecs string
	// Path is the file.
	Path string
	// CreatedAt is when the segment was indexed.
	CreatedAt time.Time
}

// RecordingDay sums up one calendar day of a channel's recordings.
type RecordingDay struct {
	// Day is the day's midnight in the location it was asked for.
	Day time.Time
	// Recorded is how much of the day is covered by recordings.
	Recorded time.Duration
	// Segments is the number of recordings that overlap the day.
	Segments int
}

// RecordingPolicy says whether and how a channel is recorded and how long its recordings are
// kept.
type RecordingPolicy struct {
	ChannelID int64
	Mode      RecordMode
	// Schedule is a JSON document owned by the recording scheduler, used when Mode is
	// RecordSchedule; empty otherwise.
	Schedule string
	// MaxAge is how long recordings are kept; 0 keeps them until the global quotas need their
	// space. Stores keep whole seconds.
	MaxAge    time.Duration
	UpdatedAt time.Time
}

// ScheduleRule is one line of a weekly recording schedule: on each of Days, from Start to End
// (minutes after local midnight). An End before Start runs over midnight into the next day, so
// "22:00-06:00" on Friday records Friday night until Saturday 06:00; 00:00-24:00 is the whole day.
type ScheduleRule struct {
	Days       []time.Weekday
	Start, End int
}

// RecordingSchedule is a weekly schedule: a channel is recorded while any rule covers the time.
// Times are wall-clock times of the time zone the schedule is evaluated in (the process's local
// zone), so a rule follows daylight saving time.
type RecordingSchedule []ScheduleRule

// MaxScheduleRules bounds the rules of one schedule: a week of distinct ranges fits easily.
const MaxScheduleRules = 64

// minutesPerDay is the largest Start or End: 24:00.
const minutesPerDay = 24 * 60

// dayNames are the names the API and the stored schedule use, Sunday first as time.Weekday.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DayName returns the three-letter lower-case name of a weekday ("mon").
func DayName(d time.Weekday) string { return dayNames[d%7] }

// ParseDay reads a weekday given as a name ("mon", "Monday", case-insensitive) or as an ISO 8601
// day number (1 Monday … 7 Sunday).
func ParseDay(s string) (time.Weekday, error) {
	ls := strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(ls); err == nil {
		if n < 1 || n > 7 {
			return 0, fmt.Errorf("%w: day %d is not 1 (Monday) to 7 (Sunday)", ErrInvalid, n)
		}
		return time.Weekday(n % 7), nil
	}
	for i, name := range dayNames {
		if ls == name || ls == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q is not a day (mon … sun, or 1 … 7)", ErrInvalid, s)
}

// ParseClock reads a time of day "HH:MM" (00:00 to 24:00) as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("%w: %q is not a time of day HH:MM (00:00 to 24:00)", ErrInvalid, s)
	}
	return hh*60 + mm, nil
}

// FormatClock writes minutes after midnight as "HH:MM".
func FormatClock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// Validate checks a schedule: at least one rule, each with days and distinct start and end.
func (s RecordingSchedule) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("%w: a schedule needs at least one rule", ErrInvalid)
	}
	if len(s) > MaxScheduleRules {
		return fmt.Errorf("%w: a schedule has at most %d rules", ErrInvalid, MaxScheduleRules)
	}
	for i, r := range s {
		switch {
		case len(r.Days) == 0:
			return fmt.Errorf("%w: schedule rule %d has no days", ErrInvalid, i)
		case r.Start < 0 || r.Start > minutesPerDay || r.End < 0 || r.End > minutesPerDay:
			return fmt.Errorf("%w: schedule rule %d: times must be within 00:00-24:00", ErrInvalid, i)
		case r.Start == r.End:
			return fmt.Errorf("%w: schedule rule %d starts and ends at %s; use 00:00-24:00 for a whole day", ErrInvalid, i, FormatClock(r.Start))
		}
		for _, d := range r.Days {
			if d < time.Sunday || d > time.Saturday {
				return fmt.Errorf("%w: schedule rule %d: bad weekday %d", ErrInvalid, i, d)
			}
		}
	}
	return nil
}

// Active reports whether the schedule records at t, read in t's location.
func (s RecordingSchedule) Active(t time.Time) bool {
	day := t.Weekday()
	prev := (day + 6) % 7
	min := t.Hour()*60 + t.Minute()
	for _, r := range s {
		for _, d := range r.Days {
			switch {
			case r.Start < r.End:
				if d == day && min >= r.Start && min < r.End {
					return true
				}
			case d == day && min >= r.Start: // over midnight: the evening part
				return true
			case d == prev && min < r.End: // over midnight: the morning part
				return true
			}
		}
	}
	return false
}

// scheduleRuleJSON is a rule as stored and shown: days by name, times as HH:MM.
type scheduleRuleJSON struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// MarshalJSON writes a rule as {"days":["mon",…],"start":"HH:MM","end":"HH:MM"}.
func (r ScheduleRule) MarshalJSON() ([]byte, error) {
	j := scheduleRuleJSON{Days: make([]string, len(r.Days)), Start: FormatClock(r.Start), End: FormatClock(r.End)}
	for i, d := range r.Days {
		j.Days[i] = DayName(d)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes; days may also be ISO numbers (1 Monday … 7
// Sunday). Errors wrap ErrInvalid.
func (r *ScheduleRule) UnmarshalJSON(b []byte) error {
	var j struct {
		Days  []json.RawMessage `json:"days"`
		Start string            `json:"start"`
		End   string            `json:"end"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: a schedule rule is {\"days\":[…],\"start\":\"HH:MM\",\"end\":\"HH:MM\"}", ErrInvalid)
	}
	var out ScheduleRule
	for _, raw := range j.Days {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			s = string(raw) // a number
		}
		d, err := ParseDay(s)
		if err != nil {
			return err
		}
		if !slices.Contains(out.Days, d) {
			out.Days = append(out.Days, d)
		}
	}
	var err error
	if out.Start, err = ParseClock(j.Start); err != nil {
		return err
	}
	if out.End, err = ParseClock(j.End); err != nil {
		return err
	}
	*r = out
	return nil
}

// Encode returns the schedule as the JSON text RecordingPolicy.Schedule stores.
func (s RecordingSchedule) Encode() string {
	if len(s) == 0 {
		return ""
	}
	b, _ := json.Marshal([]ScheduleRule(s)) // cannot fail: plain strings
	return string(b)
}

// ParseRecordingSchedule reads a stored schedule (RecordingPolicy.Schedule); "" is no schedule.
func ParseRecordingSchedule(text string) (RecordingSchedule, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var s RecordingSchedule
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		if errors.Is(err, ErrInvalid) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: schedule: %v", ErrInvalid, err)
	}
	return s, nil
}

// RecordingDeletion says what deleting a time range of recordings did.
type RecordingDeletion struct {
	// Deleted and Bytes count the segments deleted, which lay wholly inside the range.
	Deleted int
	Bytes   int64
	// Partial counts segments that overlap the range but reach outside it: they are kept whole.
	Partial int
	// Leased counts segments inside the range that are being read (an export, a download) and
	// were kept; delete again later.
	Leased int
}

// RecorderStatus is the state of one channel's recording.
type RecorderStatus struct {
	ChannelID int64
	Stream    string
	Mode      RecordMode
	// Recording says that a recorder is reading the channel's stream now.
	Recording bool
	// WriteRate is what the recorder wrote over the last few seconds, in bits per second.
	WriteRate int64
	// BytesWritten, Segments and DroppedFragments count since the platform started.
	// DroppedFragments are fragments the disk could not take in time: lost media.
	BytesWritten     uint64
	Segments         uint64
	DroppedFragments uint64
	// LastError is why the channel is not being recorded, when it should be; empty otherwise.
	LastError string
}

// StorageUsage describes the recordings' storage and the channels being recorded.
type StorageUsage struct {
	// UsedBytes and Segments are the size and number of indexed recordings.
	UsedBytes int64
	Segments  int64
	// FreeBytes and TotalBytes describe the recordings' file system; -1 when unknown.
	FreeBytes  int64
	TotalBytes int64
	// MaxBytes and MinFreeBytes are the configured quota and free-space floor (0: none).
	MaxBytes     int64
	MinFreeBytes int64
	// Oldest is the start of the oldest recording; zero when there is none.
	Oldest time.Time
	// Channels are the channels with a recording policy other than off, or a recorder running.
	Channels []RecorderStatus
}
