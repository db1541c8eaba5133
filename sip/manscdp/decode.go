package manscdp

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Limits on what Decode accepts. MANSCDP bodies are a few kilobytes; a
// catalog part holds a handful of items. The limits bound what a hostile or
// broken body costs: the worst body of MaxBodySize makes Decode allocate
// about 40 MiB in all, most of it short-lived (TestDecodeAllocationBound).
const (
	// MaxBodySize is the largest body Decode reads.
	MaxBodySize = 2 << 20
	// MaxItems is the largest number of items in one list of one message
	// (a <DeviceList>, <RecordList>, <PresetList>...).
	MaxItems = 10000
	// maxElements bounds the elements of one body: 10,000 record items of
	// 11 elements each still fit, and the parse tree stays under ~8 MiB.
	maxElements = 1 << 17
	// maxDepth bounds nesting; the deepest standard path is four levels
	// (Notify/Info/AlarmTypeParam/EventType).
	maxDepth = 32
)

// Errors returned by Decode.
var (
	// ErrTooLarge is returned for a body larger than MaxBodySize; nothing
	// of it is read.
	ErrTooLarge = errors.New("manscdp: body larger than 2 MiB")
	// ErrUnknownRoot is returned when the body has no root element or the
	// root is not Query, Control, Response or Notify.
	ErrUnknownRoot = errors.New("manscdp: not a MANSCDP body")
	// ErrTruncated is returned when the body ends inside the root element.
	// Decode also returns what was complete before the cut.
	ErrTruncated = errors.New("manscdp: truncated body")
	// ErrMalformed is returned for an XML fault inside the root element,
	// or a body deeper or larger in elements than the limits. Decode also
	// returns what was complete before the fault.
	ErrMalformed = errors.New("manscdp: malformed body")
	// ErrTooManyItems is returned when a list holds more than MaxItems
	// items. Decode also returns the message with the first MaxItems.
	ErrTooManyItems = errors.New("manscdp: more than 10000 items in a list")
)

// Decoder decodes MANSCDP bodies. The zero value is ready to use.
type Decoder struct {
	// Location is the time zone of the device's clock, in which its
	// zone-less times are read; nil means time.Local.
	Location *time.Location
}

// Decode decodes a body with the zero Decoder (device times in time.Local).
func Decode(body []byte, hint Charset) (*Message, Charset, error) {
	return Decoder{}.Decode(body, hint)
}

// Decode decodes a MANSCDP body. hint is the charset the caller remembers
// for the device (GB2312 for a new one); the returned Charset is the one the
// body was read in, for the caller to remember. Undecodable bytes become
// U+FFFD and never fail the message.
//
// The error is nil, or wraps one of the package's sentinel errors. With
// ErrTruncated, ErrMalformed and ErrTooManyItems the Message is still
// returned, holding the header and the elements complete before the fault,
// so that the caller may log or answer it; with ErrTooLarge and
// ErrUnknownRoot it is nil.
func (dec Decoder) Decode(body []byte, hint Charset) (*Message, Charset, error) {
	if len(body) > MaxBodySize {
		return nil, hint, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(body))
	}
	body = trimBody(body)
	prolog, rest := splitProlog(body)
	declared, hasDeclared := declaredCharset(prolog)
	cs := detectCharset(rest, declared, hasDeclared, hint)

	t, err := parseTree(toUTF8(rest, cs))
	if t == nil {
		return nil, cs, err
	}
	kind, ok := parseKind(t.nodes[0].name)
	if !ok {
		return nil, cs, fmt.Errorf("%w: root <%s>", ErrUnknownRoot, t.nodes[0].name)
	}
	d := decoder{loc: dec.Location}
	if d.loc == nil {
		d.loc = time.Local
	}
	m := d.message(t, kind)
	if err == nil {
		err = d.err
	}
	return m, cs, err
}

// decoder holds the state of one Decode call.
type decoder struct {
	loc *time.Location
	err error // ErrTooManyItems
}

func (d *decoder) message(t *tree, kind Kind) *Message {
	m := &Message{Kind: kind}
	t.children(0, func(_ int32, n *node) bool {
		switch n.name {
		case "cmdtype":
			m.CmdType = canonicalCmdType(n.text)
		case "sn":
			m.SN = atoi64(n.text)
		case "deviceid":
			m.DeviceID = n.text
		case "result":
			m.Result = n.text
		}
		return true
	})

	switch kind {
	case Query:
		switch m.CmdType {
		case CmdRecordInfo:
			m.RecordQuery = d.recordQuery(t, 0)
		case CmdConfigDownload:
			m.Config = config(t, 0)
		}
		return m
	case Control:
		switch m.CmdType {
		case CmdDeviceControl:
			m.Control = deviceControl(t, 0)
		case CmdDeviceConfig:
			m.Config = config(t, 0)
		}
		return m
	}

	// Response and Notify: devices use either root for some CmdTypes, so
	// the CmdType alone decides.
	switch m.CmdType {
	case CmdKeepalive:
		m.Keepalive = d.keepalive(t, 0)
	case CmdCatalog:
		m.Catalog = d.catalog(t, 0)
	case CmdDeviceInfo:
		m.DeviceInfo = deviceInfo(t, 0)
	case CmdDeviceStatus:
		m.DeviceStatus = d.deviceStatus(t, 0)
	case CmdRecordInfo:
		m.RecordInfo = d.recordInfo(t, 0)
	case CmdPresetQuery:
		m.Presets = d.presets(t, 0)
	case CmdConfigDownload:
		m.Config = config(t, 0)
	case CmdAlarm:
		if kind == Notify {
			m.Alarm = d.alarm(t, 0)
		}
	case CmdMobilePosition:
		m.MobilePosition = d.mobilePosition(t, 0)
	case CmdMediaStatus:
		m.MediaStatus = mediaStatus(t, 0)
	}
	return m
}

// items calls fn for each complete child element of list, in order, up to
// MaxItems. Any child element counts as an item whatever its name: devices
// spell <Item> in several ways. An element cut off by a truncated body is
// left out.
func (d *decoder) items(t *tree, list int32, fn func(int32)) {
	n := 0
	t.children(list, func(i int32, c *node) bool {
		if !c.closed {
			return false
		}
		if n == MaxItems {
			if d.err == nil {
				d.err = fmt.Errorf("%w: <%s>", ErrTooManyItems, t.nodes[list].name)
			}
			return false
		}
		n++
		fn(i)
		return true
	})
}

// trimBody drops what devices put around the root element: a UTF-8 byte
// order mark, whitespace and NULs before it, and NULs and whitespace after.
func trimBody(b []byte) []byte {
	for {
		n := len(b)
		b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
		b = bytes.TrimLeft(b, " \t\r\n\x00")
		if len(b) == n {
			break
		}
	}
	return bytes.TrimRight(b, " \t\r\n\x00")
}

// splitProlog cuts a leading XML declaration off b. The declaration is read
// only for its encoding: encoding/xml would reject any encoding but UTF-8
// and any version but 1.0, and devices declare what they please.
func splitProlog(b []byte) (prolog, rest []byte) {
	if len(b) < 5 || !bytes.EqualFold(b[:5], []byte("<?xml")) {
		return nil, b
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return nil, b
	}
	return b[:end], b[end+2:]
}
