package manscdp

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Charset is the character set of a MANSCDP body. GB/T 28181-2016 §6.1
// makes GB2312 the default; devices also send GB18030 (its superset) and
// UTF-8, and their XML prolog does not always say which.
type Charset uint8

// Charsets, the zero value being the standard's default.
const (
	GB2312 Charset = iota
	GB18030
	UTF8
)

// String returns the name used in an XML prolog.
func (c Charset) String() string {
	switch c {
	case GB2312:
		return "GB2312"
	case GB18030:
		return "GB18030"
	case UTF8:
		return "UTF-8"
	}
	return "Charset(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText implements encoding.TextMarshaler, so that a device's
// remembered charset can be stored and configured by name.
func (c Charset) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseCharset.
func (c *Charset) UnmarshalText(b []byte) error {
	v, ok := ParseCharset(string(b))
	if !ok {
		return &CharsetError{Name: string(b)}
	}
	*c = v
	return nil
}

// CharsetError is returned by Charset.UnmarshalText for a name it does not know.
type CharsetError struct{ Name string }

func (e *CharsetError) Error() string { return "manscdp: unknown charset " + strconv.Quote(e.Name) }

// ParseCharset maps a charset label to a Charset, ignoring case. GBK and
// CP936 map to GB18030, which contains them.
func ParseCharset(s string) (Charset, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "GB2312", "GB_2312-80", "EUC-CN":
		return GB2312, true
	case "GB18030", "GBK", "CP936", "WINDOWS-936":
		return GB18030, true
	case "UTF-8", "UTF8":
		return UTF8, true
	}
	return 0, false
}

// detectCharset chooses how to read body. It reads UTF-8 when the bytes are
// valid UTF-8 and either the prolog or the hint says UTF-8, or when the text
// is plainly UTF-8 Chinese (valid but for a few bad bytes): some Dahua
// firmware sends UTF-8 under a prolog that declares GB2312, and GB2312 text
// is practically never valid UTF-8 made of CJK characters
// (TestDetectGB2312Names). Everything else is read as GB18030, the
// superset of GB2312 and GBK. Pure ASCII reads the same in every charset, so
// the hint is returned unchanged: a keepalive must not flip what the caller
// remembers about a device.
func detectCharset(body []byte, declared Charset, hasDeclared bool, hint Charset) Charset {
	var bad, good, cjk, odd int
	for i := 0; i < len(body); {
		c := body[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			bad++
			continue
		}
		good++
		switch {
		case isCJK(r):
			cjk++
		case !isPlausible(r):
			odd++
		}
	}
	if bad == 0 && good == 0 {
		return hint
	}
	saysUTF8 := hint == UTF8 || (hasDeclared && declared == UTF8)
	looksUTF8 := odd == 0 && cjk > 0
	switch {
	case bad == 0 && (saysUTF8 || looksUTF8):
		return UTF8
	case bad > 0 && bad*3 < good && looksUTF8:
		// A few bad bytes in UTF-8 Chinese (a name cut by the device):
		// they become U+FFFD and the rest reads right.
		return UTF8
	}
	if hint == GB18030 || (hasDeclared && declared == GB18030) || !onlyGB2312(body) {
		return GB18030
	}
	return GB2312
}

// isCJK reports runes of the CJK blocks that UTF-8 Chinese text is made of.
func isCJK(r rune) bool {
	return (r >= 0x3000 && r <= 0x303F) || // CJK symbols and punctuation
		(r >= 0x3400 && r <= 0x4DBF) || // CJK extension A
		(r >= 0x4E00 && r <= 0x9FFF) || // CJK unified ideographs
		(r >= 0xFF00 && r <= 0xFFEF) // full-width forms
}

// isPlausible reports the other non-ASCII runes that appear in device and
// channel names (degree sign, middle dot, ①, ℃, ■...). Two-byte UTF-8 runes
// outside Latin-1 are what GB2312 bytes decode to by accident, so they are
// not plausible.
func isPlausible(r rune) bool {
	return (r >= 0xA0 && r <= 0xFF) ||
		(r >= 0x2000 && r <= 0x2BFF) ||
		(r >= 0x3040 && r <= 0x30FF) ||
		(r >= 0x20000 && r <= 0x2FFFF)
}

// onlyGB2312 reports whether every non-ASCII byte pair of b lies in the
// GB2312 (EUC-CN) ranges; anything else is GBK or GB18030 (or invalid).
func onlyGB2312(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] < 0x80 {
			continue
		}
		if i+1 >= len(b) || b[i] < 0xA1 || b[i] > 0xF7 || b[i+1] < 0xA1 || b[i+1] > 0xFE {
			return false
		}
		i++
	}
	return true
}

// toUTF8 converts body from cs to UTF-8. Bytes that do not decode become
// U+FFFD, and so do characters that XML 1.0 forbids (C0 controls other than
// tab, CR and LF; U+FFFE, U+FFFF), which encoding/xml would otherwise reject
// as a syntax error: a stray byte must never cost the whole message.
func toUTF8(body []byte, cs Charset) []byte {
	if cs != UTF8 {
		if out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), body); err == nil {
			body = out
		}
		// The GB18030 decoder replaces what it cannot read and never fails;
		// if it ever did, the UTF-8 path below still yields valid text.
	}
	if utf8.Valid(body) && !hasXMLIllegal(body) {
		return body
	}
	out := make([]byte, 0, len(body)+16)
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		i += size
		if !xmlLegal(r) {
			r = utf8.RuneError
		}
		// An invalid byte decodes as utf8.RuneError already.
		out = utf8.AppendRune(out, r)
	}
	return out
}

func hasXMLIllegal(b []byte) bool {
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
		// U+FFFE and U+FFFF are EF BF BE and EF BF BF.
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return true
		}
	}
	return false
}

func xmlLegal(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// fromUTF8 converts the UTF-8 text b to cs. A character that cs cannot hold
// is written as an XML character reference (&#N;), which every XML reader
// turns back into the character: the caller only passes marshalled XML, in
// which non-ASCII can only appear in text and attribute values.
func fromUTF8(b []byte, cs Charset) []byte {
	if cs == UTF8 || isASCII(b) {
		return b
	}
	if cs == GB18030 {
		// GB18030 encodes every Unicode scalar value.
		if out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewEncoder(), b); err == nil {
			return out
		}
	}
	enc := simplifiedchinese.GBK.NewEncoder()
	out := make([]byte, 0, len(b))
	var buf [8]byte
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		n, _, err := enc.Transform(buf[:], b[i:i+size], true)
		i += size
		// GBK extends GB2312; keep only the EUC-CN pairs a strict GB2312
		// device can read.
		if err == nil && n == 2 && buf[0] >= 0xA1 && buf[0] <= 0xF7 && buf[1] >= 0xA1 && buf[1] <= 0xFE {
			out = append(out, buf[0], buf[1])
			continue
		}
		out = append(out, "&#"...)
		out = strconv.AppendInt(out, int64(r), 10)
		out = append(out, ';')
	}
	return out
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// declaredCharset reads the encoding pseudo-attribute of a leading XML
// declaration. It only informs detectCharset: the declaration itself is cut
// before parsing because devices get it wrong.
func declaredCharset(prolog []byte) (Charset, bool) {
	i := bytes.Index(prolog, []byte("encoding"))
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(prolog[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return 0, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 {
		return 0, false
	}
	q := rest[0]
	if q != '"' && q != '\'' {
		return 0, false
	}
	end := bytes.IndexByte(rest[1:], q)
	if end < 0 {
		return 0, false
	}
	return ParseCharset(string(rest[1 : 1+end]))
}
