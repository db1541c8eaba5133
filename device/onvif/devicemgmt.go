package onvif

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/use-go/onvif/device"
)

// SystemDateTime is the answer to GetSystemDateAndTime.
type SystemDateTime struct {
	// UTC is the device's time in UTC; zero when it sent neither a UTC time
	// nor a local time with a time zone we understand.
	UTC time.Time
	// TimeZone is the POSIX TZ string the device reports, e.g. "CST-8".
	TimeZone string
	// DateTimeType is "Manual" or "NTP".
	DateTimeType    string
	DaylightSavings bool
}

// DeviceInformation is the answer to GetDeviceInformation.
type DeviceInformation struct {
	Manufacturer    string
	Model           string
	FirmwareVersion string
	SerialNumber    string
	HardwareID      string
}

// Capabilities holds the service addresses of GetCapabilities as the device
// reported them (Endpoints applies the NAT rewrite).
type Capabilities struct {
	Device, Media, PTZ, Events, Imaging, Analytics string
	// Extensions maps the other services, by element name ("DeviceIO",
	// "Recording", "Search", "Replay", …), to their addresses.
	Extensions map[string]string
}

// Service is one entry of GetServices.
type Service struct {
	// Namespace identifies the service, e.g. "http://www.onvif.org/ver10/media/wsdl".
	Namespace string
	XAddr     string
	// Version is "major.minor".
	Version string
}

// Service namespaces for Service.Namespace.
const (
	NamespaceDevice  = nsDevice
	NamespaceMedia   = nsMedia
	NamespaceMedia2  = nsMedia2
	NamespacePTZ     = nsPTZ
	NamespaceEvents  = "http://www.onvif.org/ver10/events/wsdl"
	NamespaceImaging = "http://www.onvif.org/ver20/imaging/wsdl"
)

// GetSystemDateAndTime asks the device for its clock, without
// authentication as ONVIF Core §5.12.1 requires of devices.
func (c *Client) GetSystemDateAndTime(ctx context.Context) (*SystemDateTime, error) {
	return c.getSystemDateAndTime(ctx, false)
}

func (c *Client) getSystemDateAndTime(ctx context.Context, auth bool) (*SystemDateTime, error) {
	var r systemDateAndTimeResponseXML
	// roundTrip, not call: call measures the clock again after a refusal,
	// which is this very request.
	if err := c.roundTrip(ctx, c.XAddr(), nsDevice, "GetSystemDateAndTime", device.GetSystemDateAndTime{}, "GetSystemDateAndTimeResponse", &r, auth); err != nil {
		return nil, err
	}
	return r.toSystemDateTime(), nil
}

// SyncClock measures the device clock with GetSystemDateAndTime and makes
// the client sign its requests with the device's time. A device that wants
// authentication even for this call (not conformant, but it happens) is
// asked again with a token made from the host clock.
func (c *Client) SyncClock(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	sdt, err := c.getSystemDateAndTime(ctx, false)
	if errors.Is(err, ErrUnauthorized) && c.username != "" {
		start = time.Now()
		sdt, err = c.getSystemDateAndTime(ctx, true)
	}
	if err != nil {
		return 0, err
	}
	if sdt.UTC.IsZero() {
		c.log.Warn("device reports no usable time; signing with the host clock")
		return c.ClockOffset(), nil
	}
	end := time.Now()
	// The device answered somewhere in the round trip, and its clock has a
	// resolution of a second: take the middle of both.
	mid := start.Add(end.Sub(start) / 2)
	off := sdt.UTC.Add(500 * time.Millisecond).Sub(mid).Round(time.Millisecond)
	c.SetClockOffset(off)
	return off, nil
}

// GetDeviceInformation reads the device's identity.
func (c *Client) GetDeviceInformation(ctx context.Context) (*DeviceInformation, error) {
	var r deviceInformationXML
	if err := c.call(ctx, c.XAddr(), nsDevice, "GetDeviceInformation", device.GetDeviceInformation{}, "GetDeviceInformationResponse", &r, true); err != nil {
		return nil, err
	}
	return &DeviceInformation{
		Manufacturer:    strings.TrimSpace(r.Manufacturer),
		Model:           strings.TrimSpace(r.Model),
		FirmwareVersion: strings.TrimSpace(r.FirmwareVersion),
		SerialNumber:    strings.TrimSpace(r.SerialNumber),
		HardwareID:      strings.TrimSpace(r.HardwareID),
	}, nil
}

// GetCapabilities reads the addresses of all services (category All).
func (c *Client) GetCapabilities(ctx context.Context) (*Capabilities, error) {
	var r capabilitiesResponseXML
	if err := c.call(ctx, c.XAddr(), nsDevice, "GetCapabilities", device.GetCapabilities{Category: "All"}, "GetCapabilitiesResponse", &r, true); err != nil {
		return nil, err
	}
	return r.toCapabilities(), nil
}

// GetServices lists every service the device offers, without capabilities.
func (c *Client) GetServices(ctx context.Context) ([]Service, error) {
	var r servicesResponseXML
	if err := c.call(ctx, c.XAddr(), nsDevice, "GetServices", device.GetServices{IncludeCapability: false}, "GetServicesResponse", &r, true); err != nil {
		return nil, err
	}
	return r.toServices(), nil
}

// Endpoints are the service addresses a Client sends its requests to.
type Endpoints struct {
	Device string
	// Media is the Media (ver10) service; the device service address when
	// the device names none (single-endpoint devices).
	Media string
	// Media2 is the Media2 (ver20) service, the one that describes H.265
	// encoders (ONVIF Profile T); empty when GetServices does not list it.
	Media2 string
	// PTZ is empty when the device has no PTZ service.
	PTZ string
	// Rewritten reports whether an address was replaced by the host we
	// reach the device at (see rewriteXAddr).
	Rewritten bool
}

// Endpoints resolves the service addresses once, from GetCapabilities, or
// from GetServices for a device that faults on GetCapabilities (deprecated
// since ONVIF 2.1, dropped by some recent firmware). The Media2 service is
// only listed by GetServices (GetCapabilities predates it), which is asked
// as well; a device that fails it is taken to have no Media2.
func (c *Client) Endpoints(ctx context.Context) (Endpoints, error) {
	c.mu.Lock()
	if c.endpoints != nil {
		e := *c.endpoints
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()

	var media, media2, ptz string
	caps, err := c.GetCapabilities(ctx)
	if _, fault := errors.AsType[*FaultError](err); fault && !errors.Is(err, ErrUnauthorized) {
		svcs, serr := c.GetServices(ctx)
		if serr != nil {
			return Endpoints{}, fmt.Errorf("%w (and %w)", err, serr)
		}
		media, media2, ptz = serviceXAddr(svcs, nsMedia), serviceXAddr(svcs, nsMedia2), serviceXAddr(svcs, nsPTZ)
	} else if err != nil {
		return Endpoints{}, err
	} else {
		media, ptz = caps.Media, caps.PTZ
		svcs, serr := c.GetServices(ctx)
		switch {
		case serr == nil:
			media2 = serviceXAddr(svcs, nsMedia2)
		case ctx.Err() != nil:
			return Endpoints{}, fmt.Errorf("onvif GetServices: %w", ctx.Err())
		default:
			// ONVIF 1.x firmware has no GetServices, and no Media2 either.
			c.log.Debug("no service list; Media2 not used", "error", serr)
		}
	}
	e := Endpoints{Device: c.XAddr()}
	var rw bool
	if media != "" {
		e.Media, rw = rewriteXAddr(media, c.xaddr)
		e.Rewritten = e.Rewritten || rw
	} else {
		e.Media = e.Device
	}
	if media2 != "" {
		e.Media2, rw = rewriteXAddr(media2, c.xaddr)
		e.Rewritten = e.Rewritten || rw
	}
	if ptz != "" {
		e.PTZ, rw = rewriteXAddr(ptz, c.xaddr)
		e.Rewritten = e.Rewritten || rw
	}
	if e.Rewritten {
		c.log.Info("service address rewritten to the address we reach the device at", "media", media, "media2", media2, "ptz", ptz, "to", c.xaddr.Host)
	}
	c.mu.Lock()
	c.endpoints = &e
	c.mu.Unlock()
	return e, nil
}

// serviceXAddr returns the address of the service with namespace ns, or "".
func serviceXAddr(svcs []Service, ns string) string {
	for _, s := range svcs {
		if s.Namespace == ns && s.XAddr != "" {
			return s.XAddr
		}
	}
	return ""
}

// XML of the device management replies, matched by local names only:
// vendors bind the ONVIF namespaces to whatever prefixes they like.

type systemDateAndTimeResponseXML struct {
	SystemDateAndTime struct {
		DateTimeType    string `xml:"DateTimeType"`
		DaylightSavings string `xml:"DaylightSavings"`
		TimeZone        struct {
			TZ string `xml:"TZ"`
		} `xml:"TimeZone"`
		UTCDateTime   *dateTimeXML `xml:"UTCDateTime"`
		LocalDateTime *dateTimeXML `xml:"LocalDateTime"`
	} `xml:"SystemDateAndTime"`
}

type dateTimeXML struct {
	Time struct {
		Hour   string `xml:"Hour"`
		Minute string `xml:"Minute"`
		Second string `xml:"Second"`
	} `xml:"Time"`
	Date struct {
		Year  string `xml:"Year"`
		Month string `xml:"Month"`
		Day   string `xml:"Day"`
	} `xml:"Date"`
}

// time returns the date and time as if in UTC; ok is false when a field is
// missing or out of range.
func (d *dateTimeXML) time() (time.Time, bool) {
	if d == nil {
		return time.Time{}, false
	}
	var v [6]int
	for i, s := range []string{d.Date.Year, d.Date.Month, d.Date.Day, d.Time.Hour, d.Time.Minute, d.Time.Second} {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return time.Time{}, false
		}
		v[i] = n
	}
	if v[0] < 1970 || v[0] > 9999 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 ||
		v[3] < 0 || v[3] > 23 || v[4] < 0 || v[4] > 59 || v[5] < 0 || v[5] > 60 {
		return time.Time{}, false
	}
	return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC), true
}

func (r *systemDateAndTimeResponseXML) toSystemDateTime() *SystemDateTime {
	s := r.SystemDateAndTime
	out := &SystemDateTime{
		TimeZone:        strings.TrimSpace(s.TimeZone.TZ),
		DateTimeType:    strings.TrimSpace(s.DateTimeType),
		DaylightSavings: parseBool(s.DaylightSavings),
	}
	if t, ok := s.UTCDateTime.time(); ok {
		out.UTC = t
	} else if t, ok := s.LocalDateTime.time(); ok {
		// Some firmware omits UTCDateTime: undo the zone's offset. POSIX
		// offsets count west of Greenwich, so "CST-8" is UTC+8.
		if off, ok := posixTZOffset(out.TimeZone); ok {
			if out.DaylightSavings {
				off -= time.Hour
			}
			out.UTC = t.Add(off)
		}
	}
	return out
}

// posixTZOffset returns the standard offset of a POSIX TZ string ("CST-8",
// "EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30", "GMT0") as the duration to add
// to local time to get UTC.
func posixTZOffset(tz string) (time.Duration, bool) {
	s := strings.TrimSpace(tz)
	// The standard name: letters, or a quoted <...> form.
	if strings.HasPrefix(s, "<") {
		i := strings.IndexByte(s, '>')
		if i < 0 {
			return 0, false
		}
		s = s[i+1:]
	} else {
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			i++
		}
		if i < 3 {
			return 0, false
		}
		s = s[i:]
	}
	sign := time.Duration(1)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	var parts [3]int
	n := 0
	for n < 3 {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && j < 2 {
			j++
		}
		if j == 0 {
			break
		}
		parts[n], _ = strconv.Atoi(s[:j])
		n++
		s = s[j:]
		if s == "" || s[0] != ':' {
			break
		}
		s = s[1:]
	}
	if n == 0 || parts[0] > 24 || parts[1] > 59 || parts[2] > 59 {
		return 0, false
	}
	return sign * (time.Duration(parts[0])*time.Hour + time.Duration(parts[1])*time.Minute + time.Duration(parts[2])*time.Second), true
}

func parseBool(s string) bool {
	s = strings.TrimSpace(s)
	return s == "true" || s == "1"
}

type deviceInformationXML struct {
	Manufacturer    string `xml:"Manufacturer"`
	Model           string `xml:"Model"`
	FirmwareVersion string `xml:"FirmwareVersion"`
	SerialNumber    string `xml:"SerialNumber"`
	HardwareID      string `xml:"HardwareId"`
}

type capabilitiesResponseXML struct {
	Capabilities struct {
		Entries   []xaddrEntryXML `xml:",any"`
		Extension struct {
			Entries []xaddrEntryXML `xml:",any"`
		} `xml:"Extension"`
	} `xml:"Capabilities"`
}

type xaddrEntryXML struct {
	XMLName xml.Name
	XAddr   string `xml:"XAddr"`
}

func (r *capabilitiesResponseXML) toCapabilities() *Capabilities {
	c := &Capabilities{Extensions: map[string]string{}}
	for _, e := range r.Capabilities.Entries {
		x := strings.TrimSpace(e.XAddr)
		switch e.XMLName.Local {
		case "Device":
			c.Device = x
		case "Media":
			c.Media = x
		case "PTZ":
			c.PTZ = x
		case "Events":
			c.Events = x
		case "Imaging":
			c.Imaging = x
		case "Analytics":
			c.Analytics = x
		}
	}
	for _, e := range r.Capabilities.Extension.Entries {
		if x := strings.TrimSpace(e.XAddr); x != "" {
			c.Extensions[e.XMLName.Local] = x
		}
	}
	return c
}

type servicesResponseXML struct {
	Services []struct {
		Namespace string `xml:"Namespace"`
		XAddr     string `xml:"XAddr"`
		Version   struct {
			Major string `xml:"Major"`
			Minor string `xml:"Minor"`
		} `xml:"Version"`
	} `xml:"Service"`
}

func (r *servicesResponseXML) toServices() []Service {
	out := make([]Service, 0, len(r.Services))
	for _, s := range r.Services {
		v := strings.TrimSpace(s.Version.Major)
		if m := strings.TrimSpace(s.Version.Minor); m != "" {
			v += "." + m
		}
		out = append(out, Service{
			Namespace: strings.TrimSpace(s.Namespace),
			XAddr:     strings.TrimSpace(s.XAddr),
			Version:   v,
		})
	}
	return out
}
