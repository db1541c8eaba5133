package mansrtsp

import (
	"reflect"
	"testing"
)

// FuzzMANSRTSP: nothing makes Unmarshal panic, and what it reads writes
// back to a body that reads the same.
func FuzzMANSRTSP(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c.text))
	}
	f.Add([]byte("PLAY RTSP/1.0\r\nRange: npt=NaN-\r\nScale: Inf\r\nRange: npt=99999999999999999999-\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := r.Unmarshal(b); err != nil {
			return
		}
		out := r.Marshal()
		var r2 Request
		if err := r2.Unmarshal(out); err != nil {
			t.Fatalf("written body does not read: %v\n%q", err, out)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip changed the request\nfirst  %+v\nsecond %+v\nwritten %q", r, r2, out)
		}
	})
}
