package manscdp

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func gbk(tb testing.TB, s string) string {
	tb.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDetectCharset(t *testing.T) {
	const (
		gbProlog   = `<?xml version="1.0" encoding="GB2312"?>`
		utfProlog  = `<?xml version="1.0" encoding="UTF-8"?>`
		g18Prolog  = `<?xml version="1.0" encoding="GB18030"?>`
		noProlog   = ``
		notifyHead = `<Notify><CmdType>Alarm</CmdType><AlarmDescription>`
		notifyTail = `</AlarmDescription></Notify>`
	)
	for _, c := range []struct {
		name   string
		prolog string
		text   string // already in the charset under test
		hint   Charset
		want   Charset
		read   string // AlarmDescription read back
	}{
		{"ascii keeps GB2312 hint", gbProlog, "motion", GB2312, GB2312, "motion"},
		{"ascii keeps UTF-8 hint", gbProlog, "motion", UTF8, UTF8, "motion"},
		{"ascii keeps GB18030 hint", utfProlog, "motion", GB18030, GB18030, "motion"},
		{"GB2312 as declared", gbProlog, gbk(t, "一楼大厅"), GB2312, GB2312, "一楼大厅"},
		{"GB2312 without prolog", noProlog, gbk(t, "一楼大厅"), GB2312, GB2312, "一楼大厅"},
		{"GB2312 under a UTF-8 prolog", utfProlog, gbk(t, "一楼大厅"), GB2312, GB2312, "一楼大厅"},
		{"GB2312 from a device remembered as UTF-8", noProlog, gbk(t, "一楼大厅"), UTF8, GB2312, "一楼大厅"},
		{"GB2312 under a GB18030 prolog", g18Prolog, gbk(t, "一楼大厅"), GB2312, GB18030, "一楼大厅"},
		{"GB2312 remembered as GB18030", gbProlog, gbk(t, "一楼大厅"), GB18030, GB18030, "一楼大厅"},
		{"GBK character", gbProlog, gbk(t, "喆"), GB2312, GB18030, "喆"},
		{"UTF-8 as declared", utfProlog, "一楼大厅", GB2312, UTF8, "一楼大厅"},
		{"UTF-8 under a GB2312 prolog", gbProlog, "一楼大厅 ①号 25℃", GB2312, UTF8, "一楼大厅 ①号 25℃"},
		{"UTF-8 without prolog", noProlog, "一楼大厅", GB2312, UTF8, "一楼大厅"},
		{"UTF-8 with a bad byte, declared", utfProlog, "一楼\xff大厅", GB2312, UTF8, "一楼\uFFFD大厅"},
		{"UTF-8 with a bad byte, remembered", noProlog, "一楼\xff大厅", UTF8, UTF8, "一楼\uFFFD大厅"},
		{"UTF-8 with a bad byte under a GB2312 prolog", gbProlog, "一楼\xff大厅", GB2312, UTF8, "一楼\uFFFD大厅"},
		{"UTF-8 Cyrillic declared", utfProlog, "Камера", GB2312, UTF8, "Камера"},
		{"UTF-8 Cyrillic remembered", noProlog, "Камера", UTF8, UTF8, "Камера"},
		{"GB2312 with a bad byte", gbProlog, gbk(t, "一楼") + "\xff" + gbk(t, "大厅"), GB2312, GB18030, "一楼\uFFFD大厅"},
		{"GB2312 cut inside a character", gbProlog, gbk(t, "一楼")[:3], GB2312, GB18030, "一\uFFFD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := c.prolog + notifyHead + c.text + notifyTail
			m, cs, err := Decode([]byte(body), c.hint)
			if err != nil {
				t.Fatal(err)
			}
			if cs != c.want {
				t.Errorf("charset %v, want %v", cs, c.want)
			}
			if m.Alarm.AlarmDescription != c.read {
				t.Errorf("read %q, want %q", m.Alarm.AlarmDescription, c.read)
			}
		})
	}
}

// TestDetectGB2312Names checks that GB2312 channel names are not mistaken
// for UTF-8: pairs of first-level characters (the common ones), and
// every second-level character in front of a first-level one, sampled.
func TestDetectGB2312Names(t *testing.T) {
	var level1, level2 [][]byte
	for hi := 0xB0; hi <= 0xF7; hi++ {
		for lo := 0xA1; lo <= 0xFE; lo++ {
			if hi == 0xD7 && lo > 0xF9 {
				continue // unassigned
			}
			c := []byte{byte(hi), byte(lo)}
			if hi <= 0xD7 {
				level1 = append(level1, c)
			} else {
				level2 = append(level2, c)
			}
		}
	}
	body := make([]byte, 0, 64)
	misread := 0
	check := func(parts ...[]byte) {
		body = body[:0]
		body = append(body, "<Notify><Name>"...)
		for _, p := range parts {
			body = append(body, p...)
		}
		body = append(body, "</Name></Notify>"...)
		if detectCharset(body, GB2312, true, GB2312) == UTF8 {
			misread++
		}
	}
	// Every character comes first once per stride and second in turn;
	// all 14 million pairs take minutes under the race detector.
	const stride = 29
	for i := range level1 {
		for j := i % stride; j < len(level1); j += stride {
			check(level1[i], level1[j])
		}
	}
	for _, a := range level2 {
		for j := 0; j < len(level1); j += 37 {
			check(a, level1[j])
		}
	}
	if misread != 0 {
		t.Errorf("%d names read as UTF-8", misread)
	}
}

func TestParseCharset(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Charset
		ok   bool
	}{
		{"GB2312", GB2312, true},
		{"gb2312", GB2312, true},
		{" GBK ", GB18030, true},
		{"gb18030", GB18030, true},
		{"utf-8", UTF8, true},
		{"UTF8", UTF8, true},
		{"latin1", 0, false},
	} {
		got, ok := ParseCharset(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %v %v", c.in, got, ok)
		}
	}
	for _, cs := range []Charset{GB2312, GB18030, UTF8} {
		b, _ := cs.MarshalText()
		var back Charset
		if err := back.UnmarshalText(b); err != nil || back != cs {
			t.Errorf("%v: %v %v", cs, back, err)
		}
	}
	var c Charset
	if err := c.UnmarshalText([]byte("EBCDIC")); err == nil || !strings.Contains(err.Error(), "EBCDIC") {
		t.Errorf("error %v", err)
	}
	if s := Charset(9).String(); s != "Charset(9)" {
		t.Error(s)
	}
}
