package manscdp

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds bodies to Decode with each remembered charset. Decode
// must not panic, must keep its bounds, must return only valid UTF-8, and
// whatever it returns without error must encode, and survive a UTF-8 round
// trip with the same header.
func FuzzDecode(f *testing.F) {
	for _, c := range bodyCases {
		f.Add(readBody(f, c.file))
	}
	f.Add([]byte("<Notify><CmdType>Keepalive</CmdType><SN>1</SN><Info><DeviceID>a</DeviceID></Info></Notify>"))
	f.Add([]byte("<Control><CmdType>DeviceControl</CmdType><SN>1</SN><IFrameCmd>Send</IFrameCmd></Control>"))
	f.Add([]byte("<Query><CmdType>ConfigDownload</CmdType><SN>1</SN><ConfigType>BasicParam</ConfigType></Query>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, hint := range []Charset{GB2312, UTF8} {
			m, cs, err := Decode(body, hint)
			if cs > UTF8 {
				t.Fatalf("charset %v", cs)
			}
			if err != nil && !errors.Is(err, ErrUnknownRoot) && !errors.Is(err, ErrTruncated) &&
				!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooManyItems) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if m == nil {
				if err == nil {
					t.Fatal("no message and no error")
				}
				continue
			}
			checkBounds(t, m)
			if !utf8.ValidString(m.CmdType) || !utf8.ValidString(m.DeviceID) {
				t.Fatalf("invalid UTF-8 in %q %q", m.CmdType, m.DeviceID)
			}
			if err != nil {
				continue
			}
			if _, err := Encode(m, cs); err != nil {
				t.Fatalf("encode in %v: %v", cs, err)
			}
			// The round trip goes through UTF-8: GB18030 text can also be
			// valid UTF-8 CJK (mojibake of UTF-8 read as GB18030 is just
			// that) and then reads differently a second time.
			b, err := Encode(m, UTF8)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			m2, _, err := Decode(b, UTF8)
			if err != nil {
				t.Fatalf("decode of encoded: %v\n%s", err, b)
			}
			if m2.Kind != m.Kind || m2.CmdType != m.CmdType || m2.SN != m.SN || m2.DeviceID != m.DeviceID || m2.Result != m.Result {
				t.Fatalf("header changed: %+v then %+v\n%s", m, m2, b)
			}
		}
	})
}

func checkBounds(t *testing.T, m *Message) {
	t.Helper()
	n := 0
	switch {
	case m.Catalog != nil:
		n = len(m.Catalog.Items)
		for _, it := range m.Catalog.Items {
			if !utf8.ValidString(it.Name) {
				t.Fatalf("invalid UTF-8 name %q", it.Name)
			}
		}
	case m.RecordInfo != nil:
		n = len(m.RecordInfo.Items)
	case m.Presets != nil:
		n = len(m.Presets.Items)
	case m.DeviceStatus != nil:
		n = len(m.DeviceStatus.Alarms)
	case m.Keepalive != nil:
		n = len(m.Keepalive.Faults)
	}
	if n > MaxItems {
		t.Fatalf("%d items", n)
	}
}
