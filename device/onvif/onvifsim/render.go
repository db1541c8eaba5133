package onvifsim

import (
	"bytes"
	"embed"
	"encoding/xml"
	"fmt"
	"strings"
	"text/template"
	"time"
)

//go:embed templates
var templateFS embed.FS

// loadTemplates parses the common templates and those of one vendor. Each
// reply template is named after its file ("GetProfiles.xml") and renders a
// whole document through the vendor's "head" and "tail".
func loadTemplates(v Vendor) (*template.Template, error) {
	funcs := template.FuncMap{"x": xmlText}
	return template.New(string(v)).Funcs(funcs).ParseFS(templateFS, "templates/common/*.xml", "templates/"+string(v)+"/*.xml")
}

// xmlText escapes text for element content and attribute values.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// view is the data every template gets.
type view struct {
	Env        string // envelope prefix
	Info       DeviceInfo
	Now, Local time.Time
	TZ         string
	XAddr      servicePaths // absolute URLs
	PTZ        bool

	// Profiles are those Media (ver10) lists; Profiles2 all of them, for
	// Media2.
	Profiles, Profiles2       []profileView
	ProfileCount              int
	SensorWidth, SensorHeight int
	Services                  []serviceView

	// Configs are the configuration types a Media2 GetProfiles asked for.
	Configs configTypes

	URI         string
	Presets     []Preset
	PresetToken string
	Fault       faultView

	// WS-Discovery
	MessageID, RelatesTo, EndpointRef, Scopes string
	InstanceID, MessageNumber                 int64
}

type profileView struct {
	Token, Name, EncoderToken, EncoderName, VideoSource, Encoding string
	Width, Height, FPS, BitrateKbps, GovLength                    int
	StreamURI                                                     string
	Media2Only                                                    bool
}

// configTypes are the tr2:ConfigurationEnumeration values of a Media2
// GetProfiles request that the templates render (ONVIF Media2 §5.2.2: a
// profile holds only the configurations of the requested types, none when
// no Type is given).
type configTypes struct {
	Any, VideoSource, AudioSource, VideoEncoder, AudioEncoder, PTZ bool
}

// newConfigTypes reads the Type elements of a Media2 GetProfiles request.
func newConfigTypes(types []string) configTypes {
	var c configTypes
	for _, t := range types {
		switch strings.TrimSpace(t) {
		case "All":
			return configTypes{true, true, true, true, true, true}
		case "VideoSource":
			c.VideoSource = true
		case "AudioSource":
			c.AudioSource = true
		case "VideoEncoder":
			c.VideoEncoder = true
		case "AudioEncoder":
			c.AudioEncoder = true
		case "PTZ":
			c.PTZ = true
		}
	}
	c.Any = c.VideoSource || c.AudioSource || c.VideoEncoder || c.AudioEncoder || c.PTZ
	return c
}

type serviceView struct {
	Namespace, XAddr string
	Major, Minor     int
}

type faultView struct {
	Code     string
	Subcodes []string
	Reason   string
}

// render executes the template of one reply.
func (s *Server) render(name string, v *view) ([]byte, error) {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name+".xml", v); err != nil {
		return nil, fmt.Errorf("onvifsim: template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// baseView fills what does not depend on the request.
func (s *Server) baseView(now time.Time) *view {
	now = now.UTC()
	v := &view{
		Env:          s.style.env,
		Info:         s.info,
		Now:          now,
		Local:        now.Add(s.style.tzOffset),
		TZ:           s.style.tz,
		XAddr:        s.xaddrs,
		PTZ:          !s.cfg.NoPTZ,
		Profiles:     s.media1Profiles(),
		Profiles2:    s.profiles,
		SensorWidth:  1920,
		SensorHeight: 1080,
		EndpointRef:  s.endpointRef,
		Scopes:       strings.Join(s.style.scopes, " "),
	}
	v.ProfileCount = len(v.Profiles)
	for _, p := range s.profiles {
		if p.Width > v.SensorWidth || p.Height > v.SensorHeight {
			v.SensorWidth, v.SensorHeight = p.Width, p.Height
		}
	}
	v.Services = []serviceView{
		{Namespace: "http://www.onvif.org/ver10/device/wsdl", XAddr: s.xaddrs.Device, Major: 2, Minor: 60},
		{Namespace: "http://www.onvif.org/ver10/media/wsdl", XAddr: s.xaddrs.Media, Major: 2, Minor: 60},
	}
	if s.cfg.Media2 {
		v.Services = append(v.Services, serviceView{Namespace: nsMedia2, XAddr: s.xaddrs.Media2, Major: 2, Minor: 60})
	}
	v.Services = append(v.Services, []serviceView{
		{Namespace: "http://www.onvif.org/ver10/events/wsdl", XAddr: s.xaddrs.Events, Major: 2, Minor: 60},
		{Namespace: "http://www.onvif.org/ver20/imaging/wsdl", XAddr: s.xaddrs.Imaging, Major: 2, Minor: 60},
		{Namespace: "http://www.onvif.org/ver10/deviceIO/wsdl", XAddr: s.xaddrs.DeviceIO, Major: 2, Minor: 60},
		{Namespace: "http://www.onvif.org/ver20/analytics/wsdl", XAddr: s.xaddrs.Analytics, Major: 2, Minor: 60},
	}...)
	if v.PTZ {
		v.Services = append(v.Services, serviceView{Namespace: "http://www.onvif.org/ver20/ptz/wsdl", XAddr: s.xaddrs.PTZ, Major: 2, Minor: 60})
	}
	return v
}

// media1Profiles returns the profiles Media (ver10) lists.
func (s *Server) media1Profiles() []profileView {
	out := make([]profileView, 0, len(s.profiles))
	for _, p := range s.profiles {
		if !p.Media2Only {
			out = append(out, p)
		}
	}
	return out
}

// fault converts a Fault into the template's form.
func (f Fault) view() faultView {
	v := faultView{Code: f.Code, Reason: f.Reason}
	if v.Code == "" {
		v.Code = "Receiver"
	}
	for sc := range strings.SplitSeq(f.Subcode, "/") {
		if sc = strings.TrimSpace(sc); sc != "" {
			v.Subcodes = append(v.Subcodes, sc)
		}
	}
	return v
}
