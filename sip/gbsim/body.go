package gbsim

import (
	"bytes"
	"context"
	"encoding/xml"
	"strconv"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/nvr/nvr/sip/manscdp"
)

// contentType is what devices write in Content-Type.
const contentType = "Application/MANSCDP+xml"

// xmlBody writes a MANSCDP body from a template, line by line, the way
// device firmware does (a device does not marshal structs).
type xmlBody struct {
	b    bytes.Buffer
	root string
}

// newBody starts a body with the header every body has (A.2.1).
func newBody(root, cmdType string, sn int64, deviceID string) *xmlBody {
	x := &xmlBody{root: root}
	x.b.WriteString("<" + root + ">\r\n")
	x.el("CmdType", cmdType)
	x.el("SN", strconv.FormatInt(sn, 10))
	x.el("DeviceID", deviceID)
	return x
}

// el writes <name>value</name>, value escaped.
func (x *xmlBody) el(name, value string) {
	x.b.WriteString("<" + name + ">")
	_ = xml.EscapeText(&x.b, []byte(value))
	x.b.WriteString("</" + name + ">\r\n")
}

func (x *xmlBody) elInt(name string, v int64) { x.el(name, strconv.FormatInt(v, 10)) }

func (x *xmlBody) elFloat(name string, v float64) {
	x.el(name, strconv.FormatFloat(v, 'f', 6, 64))
}

// open writes a start tag with a Num attribute when num >= 0.
func (x *xmlBody) open(name string, num int) {
	if num >= 0 {
		x.b.WriteString("<" + name + " Num=\"" + strconv.Itoa(num) + "\">\r\n")
		return
	}
	x.b.WriteString("<" + name + ">\r\n")
}

func (x *xmlBody) close(name string) { x.b.WriteString("</" + name + ">\r\n") }

// charset returns the charset bodies are written in.
func (d *Device) charset() manscdp.Charset {
	if d.Quirks().UTF8 {
		return manscdp.UTF8
	}
	return manscdp.GB2312
}

// encode ends x and returns it with its XML declaration, in the device's
// charset.
func (d *Device) encode(x *xmlBody) []byte {
	x.close(x.root)
	q := d.Quirks()
	declared := "GB2312"
	if q.UTF8 != q.WrongProlog {
		declared = "UTF-8"
	}
	out := []byte(`<?xml version="1.0" encoding="` + declared + "\"?>\r\n")
	if q.UTF8 {
		return append(out, x.b.Bytes()...)
	}
	// GBK writes GB2312 characters as GB2312 does; the names the
	// simulator writes are all in GB2312.
	gb, err := encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder()).Bytes(x.b.Bytes())
	if err != nil {
		return append(out, x.b.Bytes()...)
	}
	return append(out, gb...)
}

// sendBody sends x in a MESSAGE and fails unless the platform answers 2xx.
func (d *Device) sendBody(ctx context.Context, x *xmlBody) error {
	code, err := d.Send(ctx, "MESSAGE", contentType, d.encode(x))
	if err != nil {
		return err
	}
	if code/100 != 2 {
		return &StatusError{Code: code}
	}
	return nil
}

// formatTime writes t in the device's clock zone (A.2.1 dateTime).
func (d *Device) formatTime(t time.Time) string {
	return t.In(d.cfg.Location).Format(manscdp.TimeLayout)
}
