package gbmedia

import (
	"context"
	"time"
)

// Copies of sip/gbsim's MediaRequest and MediaSession (which this package
// must not import): they keep the conversion and the method set that
// cmd/gbsim relies on from breaking unnoticed.
type gbsimMediaRequest struct {
	ChannelID     string
	Mode          string
	Start, End    time.Time
	Transport     string
	RemoteAddr    string
	SSRC          uint32
	DownloadSpeed int
}

type gbsimMediaSession interface {
	LocalPort() int
	Begin()
	Play(scale float64)
	Pause()
	Seek(pos time.Duration)
	Done() <-chan struct{}
	Close()
}

var _ gbsimMediaSession = (*Session)(nil)

// The adapter of doc.go compiles.
var _ = func(s *Sender, ctx context.Context, r gbsimMediaRequest) (gbsimMediaSession, error) {
	sess, err := s.Start(ctx, Request(r))
	if err != nil {
		return nil, err
	}
	return sess, nil
}
