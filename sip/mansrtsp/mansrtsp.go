// Package mansrtsp writes and reads MANSRTSP, the RTSP-like bodies GB/T
// 28181 sends in INFO requests (Content-Type Application/MANSRTSP) to
// control a playback dialog (GB/T 28181-2016 §9.8 and Annex B): PLAY with
// Scale to change speed, PLAY with Range: npt=<seconds>- to seek, PLAY with
// Range: npt=now- to resume, and PAUSE with PauseTime: now.
//
// The writers produce what devices are known to accept: the request line,
// CSeq first, one header per line, CRLF line ends, no blank line at the end
// (the INFO's Content-Length delimits the body). The reader, used by the
// device simulator and fuzzed (FuzzMANSRTSP), accepts LF line ends, any
// header case, a missing RTSP version, npt in seconds or hh:mm:ss, and
// ignores headers it does not know.
package mansrtsp

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// ContentType is the INFO body's content type, in the capitalization the
// standard and devices use.
const ContentType = "Application/MANSRTSP"

// Methods.
const (
	MethodPlay     = "PLAY"
	MethodPause    = "PAUSE"
	MethodTeardown = "TEARDOWN"
)

// ErrNotMANSRTSP is returned by Unmarshal for a body without a request
// line.
var ErrNotMANSRTSP = errors.New("mansrtsp: no request line")

// maxPosition bounds a Range position: a recording is not a century long,
// and the bound keeps the millisecond arithmetic far from overflow.
const maxPosition = 100 * 365 * 24 * time.Hour

// Request is one MANSRTSP request.
type Request struct {
	// Method is PLAY, PAUSE or TEARDOWN (upper case).
	Method string
	// CSeq numbers the requests of a dialog; each INFO carries a new one.
	CSeq int
	// Scale is the playback speed (1 normal, 2 double, 0.5 half, negative
	// backwards where the device supports it); 0 when there is no Scale
	// header.
	Scale float64
	// Seek is set when Range names a start position: Position is where to
	// play from, from the start of the recording, in milliseconds.
	Seek     bool
	Position time.Duration
	// Now is set by Range: npt=now- (resume where the stream is).
	Now bool
	// PauseTime is the PAUSE's PauseTime header ("now").
	PauseTime string
}

// Speed returns the body of a PLAY that changes the playback speed.
func Speed(cseq int, scale float64) []byte {
	return (&Request{Method: MethodPlay, CSeq: cseq, Scale: scale}).Marshal()
}

// SeekTo returns the body of a PLAY that seeks to pos from the start of
// the recording.
func SeekTo(cseq int, pos time.Duration) []byte {
	return (&Request{Method: MethodPlay, CSeq: cseq, Seek: true, Position: pos}).Marshal()
}

// Resume returns the body of a PLAY that resumes a paused playback.
func Resume(cseq int) []byte {
	return (&Request{Method: MethodPlay, CSeq: cseq, Now: true}).Marshal()
}

// Pause returns the body of a PAUSE.
func Pause(cseq int) []byte {
	return (&Request{Method: MethodPause, CSeq: cseq, PauseTime: "now"}).Marshal()
}

// Marshal writes the request.
func (r *Request) Marshal() []byte {
	var b strings.Builder
	b.WriteString(r.Method + " RTSP/1.0\r\nCSeq: " + strconv.Itoa(r.CSeq) + "\r\n")
	if r.Scale != 0 && !math.IsNaN(r.Scale) && !math.IsInf(r.Scale, 0) {
		b.WriteString("Scale: " + formatScale(r.Scale) + "\r\n")
	}
	switch {
	case r.Now:
		b.WriteString("Range: npt=now-\r\n")
	case r.Seek:
		b.WriteString("Range: npt=" + formatSeconds(r.Position) + "-\r\n")
	}
	if r.PauseTime != "" {
		b.WriteString("PauseTime: " + r.PauseTime + "\r\n")
	}
	return []byte(b.String())
}

// formatScale writes a speed with at least one decimal ("2.0", "0.5"),
// as platforms do and devices expect.
func formatScale(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// formatSeconds writes a position in seconds, with milliseconds when it
// has any ("100", "12.5").
func formatSeconds(d time.Duration) string {
	ms := max(min(d, maxPosition), 0).Milliseconds()
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(frac+1000, 10)[1:], "0")
	}
	return s
}

// Unmarshal reads a request.
func (r *Request) Unmarshal(b []byte) error {
	*r = Request{}
	first := true
	for raw := range strings.SplitSeq(string(b), "\n") {
		ln := strings.TrimSpace(raw)
		if ln == "" {
			continue
		}
		if first {
			method, _, _ := strings.Cut(ln, " ")
			if strings.Contains(method, ":") {
				return ErrNotMANSRTSP // a header where the request line should be
			}
			r.Method = strings.ToUpper(method)
			first = false
			continue
		}
		name, val, ok := strings.Cut(ln, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "cseq":
			if n, err := strconv.Atoi(val); err == nil && n >= 0 {
				r.CSeq = n
			}
		case "scale":
			if v, err := strconv.ParseFloat(val, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
				r.Scale = v
			}
		case "range":
			r.readRange(val)
		case "pausetime":
			r.PauseTime = val
		}
	}
	if first {
		return ErrNotMANSRTSP
	}
	return nil
}

// readRange reads "npt=<start>-[<end>]"; other range units are ignored.
func (r *Request) readRange(v string) {
	unit, spec, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "npt") {
		return
	}
	start, _, _ := strings.Cut(spec, "-")
	start = strings.TrimSpace(start)
	if strings.EqualFold(start, "now") {
		r.Now, r.Seek, r.Position = true, false, 0
		return
	}
	if pos, ok := parseNPT(start); ok {
		r.Seek, r.Position, r.Now = true, pos, false
	}
}

// parseNPT reads an npt time (RFC 2326 §3.6): seconds with an optional
// fraction, or h:mm:ss with one. It is rounded to milliseconds.
func parseNPT(v string) (time.Duration, bool) {
	var secs float64
	parts := strings.Split(v, ":")
	switch len(parts) {
	case 1, 3:
	default:
		return 0, false
	}
	for i, p := range parts {
		if p == "" || strings.IndexFunc(p, func(c rune) bool { return (c < '0' || c > '9') && c != '.' }) >= 0 {
			return 0, false // digits and a point only: no signs, exponents, NaN
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		if i < len(parts)-1 {
			f = math.Trunc(f)
		}
		secs = secs*60 + f
	}
	if secs*1000 > float64(maxPosition/time.Millisecond) {
		return 0, false
	}
	return time.Duration(math.Round(secs*1000)) * time.Millisecond, true
}
