package sdp

import (
	"strconv"
	"strings"
	"time"
)

// Marshal writes the session with CRLF line ends, in the order of RFC 4566
// §5 and the GB lines (y=, f=) last, as devices expect them. Empty optional
// fields write no line; an empty Origin is written as "-" (RFC 4566 §5.2).
func (s *Session) Marshal() []byte {
	var b strings.Builder
	line := func(k byte, v string) {
		b.WriteByte(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	origin := s.Origin
	if origin == "" {
		origin = "-"
	}
	oaddr := s.OriginAddress
	if oaddr == "" {
		oaddr = s.Address
	}
	line('v', "0")
	line('o', origin+" 0 0 IN "+addrType(oaddr)+" "+oaddr)
	line('s', s.Name)
	if s.Info != "" {
		line('i', s.Info)
	}
	if s.URI != "" {
		line('u', s.URI)
	}
	if s.Address != "" {
		line('c', "IN "+addrType(s.Address)+" "+s.Address)
	}
	line('t', unixString(s.Start)+" "+unixString(s.End))

	media := s.Media
	if media == "" {
		media = "video"
	}
	m := media + " " + strconv.Itoa(s.Port)
	if s.Proto != "" {
		m += " " + s.Proto
		for _, f := range s.Formats {
			m += " " + strconv.Itoa(f)
		}
	}
	line('m', m)
	if s.Direction != "" {
		line('a', s.Direction)
	}
	for _, r := range s.RTPMaps {
		line('a', "rtpmap:"+strconv.Itoa(r.PayloadType)+" "+r.Encoding+"/"+strconv.Itoa(r.ClockRate))
	}
	if s.Setup != "" {
		line('a', "setup:"+s.Setup)
	}
	if s.Connection != "" {
		line('a', "connection:"+s.Connection)
	}
	if s.DownloadSpeed > 0 {
		line('a', "downloadspeed:"+strconv.Itoa(s.DownloadSpeed))
	}
	if s.FileSize != 0 {
		line('a', "filesize:"+strconv.FormatInt(s.FileSize, 10))
	}
	if s.Stream > 0 {
		style := s.StreamStyle
		if style == 0 {
			style = DefaultStreamStyle
		}
		n := strconv.Itoa(s.Stream)
		if style&StreamAttr != 0 {
			line('a', "stream:"+n)
		}
		if style&StreamNumber != 0 {
			line('a', "streamnumber:"+n)
		}
		if style&StreamProfile != 0 {
			line('a', "streamprofile:"+n)
		}
		if style&StreamMode != 0 {
			line('a', "streamMode:sub")
		}
	}
	for _, a := range s.Attributes {
		line('a', a)
	}
	if s.SSRC != "" {
		line('y', s.SSRC)
	}
	if s.Format != "" {
		line('f', s.Format)
	}
	return []byte(b.String())
}

// addrType returns the c=/o= address type of an address.
func addrType(addr string) string {
	if strings.Contains(addr, ":") {
		return "IP6"
	}
	return "IP4"
}

// unixString writes a t= time: Unix seconds, 0 for the zero time.
func unixString(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}
