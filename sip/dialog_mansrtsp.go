package sip

import (
	"strconv"
	"strings"
	"time"

	"github.com/nvr/nvr/sip/mansrtsp"
)

// MANSRTSPPlay returns the body of a PLAY for Dialog.Info: scale > 0 sets
// the speed (Scale), pos >= 0 seeks to pos seconds from the start of the
// recording (Range: npt=pos-), and neither resumes a paused playback
// (Range: npt=now-). Info numbers it.
func MANSRTSPPlay(scale, pos float64) []byte {
	r := mansrtsp.Request{Method: mansrtsp.MethodPlay, Scale: max(scale, 0)}
	if pos >= 0 {
		r.Seek, r.Position = true, time.Duration(pos*float64(time.Second))
	}
	if r.Scale == 0 && !r.Seek {
		r.Now = true
	}
	return r.Marshal()
}

// MANSRTSPPause returns the body of a PAUSE for Dialog.Info.
func MANSRTSPPause() []byte { return mansrtsp.Pause(0) }

// renumberMANSRTSP sets the CSeq of a MANSRTSP body, keeping every other
// line as it is: the line is replaced, or added after the request line.
func renumberMANSRTSP(body []byte, cseq int) []byte {
	lines := strings.SplitAfter(string(body), "\n")
	value := "CSeq: " + strconv.Itoa(cseq) + "\r\n"
	for i, ln := range lines {
		name, _, ok := strings.Cut(ln, ":")
		if ok && i > 0 && strings.EqualFold(strings.TrimSpace(name), "CSeq") {
			lines[i] = value
			return []byte(strings.Join(lines, ""))
		}
	}
	if len(lines) == 0 || !strings.HasSuffix(lines[0], "\n") {
		return body // no request line to follow: sent as it is
	}
	return []byte(lines[0] + value + strings.Join(lines[1:], ""))
}
