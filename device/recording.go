package device

import "time"

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
