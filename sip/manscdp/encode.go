package manscdp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
)

// Encode marshals v (a *Message, or any value encoding/xml can marshal) as
// a MANSCDP body in cs: an XML declaration naming cs, then the body. A
// character cs cannot hold is written as a character reference.
func Encode(v any, cs Charset) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="`)
	buf.WriteString(cs.String())
	buf.WriteString("\"?>\r\n")
	prolog := buf.Len()
	e := xml.NewEncoder(&buf)
	e.Indent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("manscdp: encode: %w", err)
	}
	buf.WriteString("\r\n")
	b := buf.Bytes()
	if cs == UTF8 || isASCII(b[prolog:]) {
		return b, nil
	}
	return append(b[:prolog:prolog], fromUTF8(b[prolog:], cs)...), nil
}

// header is what every body starts with.
type header struct {
	CmdType  string `xml:"CmdType"`
	SN       int64  `xml:"SN"`
	DeviceID string `xml:"DeviceID"`
	Result   string `xml:"Result,omitempty"`
}

// MarshalXML implements xml.Marshaler: the root element is m.Kind and the
// payload's fields follow the header, as in GB/T 28181-2016 Annex A.
func (m Message) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	switch m.Kind {
	case Query, Control, Response, Notify:
	default:
		return fmt.Errorf("manscdp: message without a root kind (%v)", m.Kind)
	}
	start := xml.StartElement{Name: xml.Name{Local: m.Kind.String()}}
	h := header{CmdType: m.CmdType, SN: m.SN, DeviceID: m.DeviceID, Result: m.Result}
	var v any = h
	switch {
	case m.Keepalive != nil:
		var info *keepaliveInfo
		if len(m.Keepalive.Faults) > 0 {
			info = &keepaliveInfo{DeviceID: m.Keepalive.Faults}
		}
		v = struct {
			header
			*Keepalive
			Info *keepaliveInfo `xml:"Info,omitempty"`
		}{h, m.Keepalive, info}
	case m.Catalog != nil:
		v = struct {
			header
			SumNum     int                   `xml:"SumNum"`
			DeviceList itemList[CatalogItem] `xml:"DeviceList"`
		}{h, m.Catalog.SumNum, m.Catalog.Items}
	case m.DeviceInfo != nil:
		v = struct {
			header
			*DeviceInfo
		}{h, m.DeviceInfo}
	case m.DeviceStatus != nil:
		v = struct {
			header
			*DeviceStatus
			DeviceTime  string                `xml:"DeviceTime,omitempty"`
			Alarmstatus itemList[AlarmStatus] `xml:"Alarmstatus,omitempty"`
		}{h, m.DeviceStatus, FormatTime(m.DeviceStatus.DeviceTime), m.DeviceStatus.Alarms}
	case m.RecordInfo != nil:
		v = struct {
			header
			Name       string               `xml:"Name"`
			SumNum     int                  `xml:"SumNum"`
			RecordList itemList[RecordItem] `xml:"RecordList"`
		}{h, m.RecordInfo.Name, m.RecordInfo.SumNum, m.RecordInfo.Items}
	case m.RecordQuery != nil:
		v = struct {
			header
			StartTime string `xml:"StartTime"`
			EndTime   string `xml:"EndTime"`
			*RecordQuery
		}{h, FormatTime(m.RecordQuery.StartTime), FormatTime(m.RecordQuery.EndTime), m.RecordQuery}
	case m.Presets != nil:
		v = struct {
			header
			PresetList itemList[Preset] `xml:"PresetList"`
		}{h, m.Presets.Items}
	case m.Config != nil:
		v = struct {
			header
			*Config
		}{h, m.Config}
	case m.Alarm != nil:
		a := m.Alarm
		var info *alarmInfo
		if a.AlarmType != 0 || a.EventType != 0 {
			info = &alarmInfo{AlarmType: a.AlarmType}
			if a.EventType != 0 {
				info.AlarmTypeParam = &alarmTypeParam{EventType: a.EventType}
			}
		}
		v = struct {
			header
			AlarmPriority    int    `xml:"AlarmPriority"`
			AlarmMethod      int    `xml:"AlarmMethod"`
			AlarmTime        string `xml:"AlarmTime"`
			AlarmDescription string `xml:"AlarmDescription,omitempty"`
			*Alarm
			Info *alarmInfo `xml:"Info,omitempty"`
		}{h, a.AlarmPriority, a.AlarmMethod, FormatTime(a.AlarmTime), a.AlarmDescription, a, info}
	case m.MobilePosition != nil:
		v = struct {
			header
			Time string `xml:"Time"`
			*MobilePosition
		}{h, FormatTime(m.MobilePosition.Time), m.MobilePosition}
	case m.MediaStatus != nil:
		v = struct {
			header
			*MediaStatus
		}{h, m.MediaStatus}
	case m.Control != nil:
		var info *controlInfo
		if m.Control.ControlPriority != 0 {
			info = &controlInfo{ControlPriority: m.Control.ControlPriority}
		}
		v = struct {
			header
			*DeviceControl
			Info *controlInfo `xml:"Info,omitempty"`
		}{h, m.Control, info}
	}
	return e.EncodeElement(v, start)
}

// itemList is a list element such as <DeviceList Num="2"><Item>…</Item>…;
// Num is always the number of items written.
type itemList[T any] []T

func (l itemList[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "Num"}, Value: strconv.Itoa(len(l))})
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	item := xml.StartElement{Name: xml.Name{Local: "Item"}}
	for i := range l {
		if err := e.EncodeElement(l[i], item); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// The <Info> elements are built only when they have content: a path tag
// such as "Info>PTZType,omitempty" would write an empty <Info></Info>.
type (
	keepaliveInfo struct {
		DeviceID []string `xml:"DeviceID"`
	}
	catalogInfo struct {
		PTZType int `xml:"PTZType"`
	}
	controlInfo struct {
		ControlPriority int `xml:"ControlPriority"`
	}
	alarmInfo struct {
		AlarmType      int             `xml:"AlarmType,omitempty"`
		AlarmTypeParam *alarmTypeParam `xml:"AlarmTypeParam,omitempty"`
	}
	alarmTypeParam struct {
		EventType int `xml:"EventType"`
	}
)

// MarshalXML implements xml.Marshaler, writing PTZType in <Info>.
func (c CatalogItem) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type plain CatalogItem // without this method
	var info *catalogInfo
	if c.PTZType != 0 {
		info = &catalogInfo{PTZType: c.PTZType}
	}
	return e.EncodeElement(struct {
		plain
		Info *catalogInfo `xml:"Info,omitempty"`
	}{plain(c), info}, start)
}

// MarshalXML implements xml.Marshaler, writing the fields in the order of
// A.2.6.7 with the times as TimeLayout.
func (r RecordItem) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		DeviceID   string `xml:"DeviceID"`
		Name       string `xml:"Name"`
		FilePath   string `xml:"FilePath,omitempty"`
		Address    string `xml:"Address,omitempty"`
		StartTime  string `xml:"StartTime"`
		EndTime    string `xml:"EndTime"`
		Secrecy    int    `xml:"Secrecy"`
		Type       string `xml:"Type,omitempty"`
		RecorderID string `xml:"RecorderID,omitempty"`
		FileSize   int64  `xml:"FileSize,omitempty"`
	}{r.DeviceID, r.Name, r.FilePath, r.Address, FormatTime(r.StartTime), FormatTime(r.EndTime),
		r.Secrecy, r.Type, r.RecorderID, r.FileSize}, start)
}
