package device

import "time"

// Playback is a session replaying a GB28181 channel's recordings kept on the device (GB/T
// 28181-2016 §9.8): the device streams the range as it would live video, and the platform
// serves it as a stream of its own.
type Playback struct {
	// ID names the session in the API.
	ID        string
	ChannelID int64
	// Stream is the media hub name the session's video is played under.
	Stream     string
	Start, End time.Time
	CreatedAt  time.Time
}

// PlaybackControl is a trick-play request for a Playback, sent to the device as MANSRTSP.
type PlaybackControl struct {
	// Action is one of the PlaybackAction constants.
	Action string
	// Position is where to seek to, in seconds from the session's Start.
	Position float64
	// Scale is the speed, 0.25 to 8 (1 = real time).
	Scale float64
}

// Playback actions.
const (
	PlaybackPause  = "pause"
	PlaybackResume = "resume"
	PlaybackSeek   = "seek"
	PlaybackSpeed  = "speed"
)

// Download is a device-side recording copied to the platform's data directory as an MP4
// file (GB/T 28181-2016 §9.9).
type Download struct {
	ID         string
	ChannelID  int64
	Start, End time.Time
	// Speed is the download speed the device was asked for (1 = real time).
	Speed int
	// State is one of the Download* constants.
	State string
	// Progress is the share of the range received, 0 to 1.
	Progress float64
	// Bytes is the size of the file so far.
	Bytes int64
	// Path is the file, under the data directory.
	Path string
	// Error says why a failed download failed.
	Error      string
	CreatedAt  time.Time
	FinishedAt time.Time
}

// Download states.
const (
	DownloadRunning = "running"
	DownloadDone    = "done"
	DownloadFailed  = "failed"
)
