package sdp

import (
	"testing"
)

// FuzzSDP: nothing makes Unmarshal panic, and a description it reads
// writes back (Marshal) to one that reads the same.
func FuzzSDP(f *testing.F) {
	for _, c := range cases {
		f.Add(c.input(f))
	}
	f.Add([]byte("m=video 1\nm=audio 2\nm=video 3\na=setup:active"))
	f.Add([]byte("a=stream:1\nm=audio 0 RTP/AVP 8\na=stream:2\nm=video 5 RTP/AVP 96\n"))
	f.Add([]byte("o=-\nc=IN\nt=99999999999 x\nm=video 1/ RTP/AVP 96 128 -1\ny=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Session
		if err := s.Unmarshal(b); err != nil {
			return
		}
		out := s.Marshal()
		var s2 Session
		if err := s2.Unmarshal(out); err != nil {
			t.Fatalf("written description does not read: %v\n%q", err, out)
		}
		if !sameSession(s, s2) {
			t.Fatalf("round trip changed the session\nfirst  %+v\nsecond %+v\nwritten %q", s, s2, out)
		}
	})
}
