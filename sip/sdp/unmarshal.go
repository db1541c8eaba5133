package sdp

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Unmarshal.
var (
	// ErrNoMedia is returned for a description without an m= line: there
	// is no port to send to or receive from.
	ErrNoMedia = errors.New("sdp: no m= line")
	// ErrBadMedia is returned when the chosen m= line has no valid port.
	ErrBadMedia = errors.New("sdp: bad m= line")
)

// Time limits of t= values. Unix seconds are expected; a few devices
// write NTP seconds (since 1900, RFC 4566 §5.9): a value from ntpFrom up to
// ntpUntil is read as NTP (1995 to 2058 in NTP, past 2065 in Unix), one
// from ntpUntil on as invalid.
const (
	ntpUnixOffset = 2208988800
	ntpFrom       = 3_000_000_000
	ntpUntil      = 5_000_000_000
)

// Unmarshal reads a session description (see the package documentation
// for what it tolerates). Of several m= sections it reads the first video
// one, or the first one when none is video, with the session-level
// attributes; the other sections' lines are ignored. It fails only when no
// m= line with a valid port is found.
func (s *Session) Unmarshal(b []byte) error {
	*s = Session{}
	var (
		inMedia   bool // inside an m= section
		chosen    bool // a section was chosen
		skipping  bool // inside a section that was not chosen
		sessionC  string
		mediaC    string
		streamSet bool
		mediaErr  error
		base      Session // the session-level media fields, before the first m=
		baseSet   bool
	)
	for raw := range strings.SplitSeq(string(b), "\n") {
		ln := strings.TrimSpace(raw)
		if len(ln) < 2 || ln[1] != '=' {
			continue // blank, or not a type=value line
		}
		k, v := ln[0], strings.TrimSpace(ln[2:])
		if k == 'm' {
			inMedia = true
			f := strings.Fields(v)
			isVideo := len(f) > 0 && strings.EqualFold(f[0], "video")
			if chosen && !(isVideo && !strings.EqualFold(s.Media, "video")) {
				skipping = true
				continue
			}
			// First section, or a video one replacing a non-video first:
			// that one starts again from the session-level attributes.
			if !chosen {
				base, baseSet = s.mediaFields(), streamSet
			} else {
				s.setMediaFields(base)
				mediaC, streamSet = "", baseSet
			}
			chosen, skipping = true, false
			mediaErr = s.readMedia(f)
			continue
		}
		if skipping {
			continue
		}
		switch k {
		case 'o':
			f := strings.Fields(v)
			if len(f) > 0 && f[0] != "-" {
				s.Origin = f[0]
			}
			if len(f) >= 6 {
				s.OriginAddress = f[5]
			}
		case 's':
			s.Name = v
		case 'i':
			if !inMedia {
				s.Info = v
			}
		case 'u':
			s.URI = v
		case 'c':
			f := strings.Fields(v)
			if len(f) >= 3 {
				addr, _, _ := strings.Cut(f[2], "/") // multicast TTL
				if inMedia {
					mediaC = addr
				} else {
					sessionC = addr
				}
			}
		case 't':
			f := strings.Fields(v)
			if len(f) >= 1 {
				s.Start = readTime(f[0])
			}
			if len(f) >= 2 {
				s.End = readTime(f[1])
			}
		case 'a':
			s.readAttribute(v, &streamSet)
		case 'y':
			s.SSRC = v
		case 'f':
			s.Format = v
		}
	}
	if !chosen {
		return ErrNoMedia
	}
	if mediaErr != nil {
		return mediaErr
	}
	switch {
	case mediaC != "":
		s.Address = mediaC
	case sessionC != "":
		s.Address = sessionC
	default:
		s.Address = s.OriginAddress
	}
	return nil
}

// mediaFields returns a copy of the fields an m= section sets.
func (s *Session) mediaFields() Session {
	return Session{
		Media: s.Media, Port: s.Port, Proto: s.Proto, Formats: slices.Clone(s.Formats),
		Direction: s.Direction, RTPMaps: slices.Clone(s.RTPMaps), Setup: s.Setup, Connection: s.Connection,
		DownloadSpeed: s.DownloadSpeed, FileSize: s.FileSize, Stream: s.Stream, Attributes: slices.Clone(s.Attributes),
	}
}

// setMediaFields sets the fields an m= section sets from m.
func (s *Session) setMediaFields(m Session) {
	s.Media, s.Port, s.Proto, s.Formats = m.Media, m.Port, m.Proto, m.Formats
	s.Direction, s.RTPMaps, s.Setup, s.Connection = m.Direction, m.RTPMaps, m.Setup, m.Connection
	s.DownloadSpeed, s.FileSize, s.Stream, s.Attributes = m.DownloadSpeed, m.FileSize, m.Stream, m.Attributes
}

// readMedia reads the fields of an m= line: media port[/count] proto fmt…
func (s *Session) readMedia(f []string) error {
	if len(f) < 2 {
		return ErrBadMedia
	}
	s.Media = f[0]
	p, _, _ := strings.Cut(f[1], "/")
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return ErrBadMedia
	}
	s.Port = port
	if len(f) >= 3 {
		s.Proto = f[2]
	}
	for _, x := range f[min(3, len(f)):] {
		if n, err := strconv.Atoi(x); err == nil && n >= 0 && n <= 127 {
			s.Formats = append(s.Formats, n)
		}
	}
	return nil
}

// readAttribute reads one a= value (name[:value]).
func (s *Session) readAttribute(v string, streamSet *bool) {
	name, val, _ := strings.Cut(v, ":")
	name, val = strings.TrimSpace(name), strings.TrimSpace(val)
	switch strings.ToLower(name) {
	case RecvOnly, SendOnly, SendRecv, Inactive:
		s.Direction = strings.ToLower(name)
	case "rtpmap":
		if r, ok := readRTPMap(val); ok {
			s.RTPMaps = append(s.RTPMaps, r)
		}
	case "setup":
		s.Setup = strings.ToLower(val)
	case "connection":
		s.Connection = strings.ToLower(val)
	case "downloadspeed":
		if n, err := strconv.Atoi(val); err == nil && n > 0 {
			s.DownloadSpeed = n
		}
	case "filesize":
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			s.FileSize = n
		}
	case "stream", "streamnumber", "streamprofile":
		if n, err := strconv.Atoi(val); err == nil && n >= 0 && !*streamSet {
			s.Stream, *streamSet = n, true
		}
	case "streammode":
		if *streamSet {
			return
		}
		switch strings.ToLower(val) {
		case "main":
			s.Stream, *streamSet = 0, true
		case "sub":
			s.Stream, *streamSet = 1, true
		}
	default:
		if v != "" {
			s.Attributes = append(s.Attributes, v)
		}
	}
}

// readRTPMap reads "96 PS/90000" (a trailing /channels is ignored).
func readRTPMap(v string) (RTPMap, bool) {
	pt, rest, ok := strings.Cut(v, " ")
	if !ok {
		return RTPMap{}, false
	}
	n, err := strconv.Atoi(pt)
	if err != nil || n < 0 || n > 127 {
		return RTPMap{}, false
	}
	enc, clock, _ := strings.Cut(strings.TrimSpace(rest), "/")
	clock, _, _ = strings.Cut(clock, "/")
	rate, err := strconv.Atoi(clock)
	if err != nil || rate < 0 || enc == "" || strings.ContainsAny(enc, " \t") {
		return RTPMap{}, false
	}
	return RTPMap{PayloadType: n, Encoding: enc, ClockRate: rate}, true
}

// readTime reads a t= value (see ntpFrom); invalid values are the zero
// time.
func readTime(v string) time.Time {
	n, err := strconv.ParseUint(v, 10, 64)
	switch {
	case err != nil || n == 0 || n >= ntpUntil:
		return time.Time{}
	case n >= ntpFrom:
		n -= ntpUnixOffset
	}
	return time.Unix(int64(n), 0)
}
