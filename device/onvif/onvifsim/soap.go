package onvifsim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
)

// nsMedia2 is the namespace of the Media2 service (ONVIF Media2 Service
// Specification, ver20). Its operations share their local names with those
// of Media (ver10), so requests are told apart by namespace: Axis firmware
// serves both at one path.
const nsMedia2 = "http://www.onvif.org/ver20/media/wsdl"

// Media2Op names a Media2 operation ("GetProfiles" becomes
// "tr2:GetProfiles") for Misbehave and in Request.Op, which name the
// operations of the other services by their local name alone.
func Media2Op(op string) string { return "tr2:" + op }

// requestXML is a SOAP request, matched by local names.
type requestXML struct {
	XMLName xml.Name
	Header  struct {
		Security *struct {
			UsernameToken *usernameTokenXML `xml:"UsernameToken"`
		} `xml:"Security"`
	} `xml:"Header"`
	Body struct {
		Ops []opXML `xml:",any"`
	} `xml:"Body"`
}

// opXML holds the parameters of every operation the simulator answers.
type opXML struct {
	XMLName      xml.Name
	Category     string `xml:"Category"`
	ProfileToken string `xml:"ProfileToken"`
	PresetToken  string `xml:"PresetToken"`
	PresetName   string `xml:"PresetName"`
	// Media2 GetStreamUri's Protocol and GetProfiles' Types.
	Protocol    string   `xml:"Protocol"`
	Types       []string `xml:"Type"`
	StreamSetup struct {
		Stream    string `xml:"Stream"`
		Transport struct {
			Protocol string `xml:"Protocol"`
		} `xml:"Transport"`
	} `xml:"StreamSetup"`
	Velocity *speedXML `xml:"Velocity"`
	Speed    *speedXML `xml:"Speed"`
	Timeout  string    `xml:"Timeout"`
	// Stop's flags.
	PanTilt string `xml:"PanTilt"`
	Zoom    string `xml:"Zoom"`
}

type speedXML struct {
	PanTilt *struct {
		X string `xml:"x,attr"`
		Y string `xml:"y,attr"`
	} `xml:"PanTilt"`
	Zoom *struct {
		X string `xml:"x,attr"`
	} `xml:"Zoom"`
}

// unauthenticated operations: ONVIF Core §5.9.4.3 (PRE_AUTH) allows more,
// but real cameras differ, and the strict set makes the client prove it
// authenticates the rest.
var unauthenticated = map[string]bool{"GetSystemDateAndTime": true}

func (s *Server) serveSOAP(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		return
	}
	var req requestXML
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	if err := d.Decode(&req); err != nil || req.XMLName.Local != "Envelope" || len(req.Body.Ops) == 0 {
		s.writeFault(w, http.StatusBadRequest, Fault{Code: "Sender", Subcode: "WellFormed", Reason: "Well-formed Error"})
		return
	}
	op := &req.Body.Ops[0]
	name := op.XMLName.Local
	if op.XMLName.Space == nsMedia2 {
		name = Media2Op(name)
	}
	rec := Request{Op: name, Path: r.URL.Path}

	if m := s.takeMisbehaviour(name); m != nil {
		if m.Delay > 0 && !s.waitOrDone(r.Context(), m.Delay) {
			s.record(rec)
			return // the client gave up, or the simulator is closing
		}
		if m.Fault != nil || m.Body != "" || m.Status != 0 {
			s.record(rec)
			s.misbehaveNow(w, m)
			return
		}
	}
	if s.cfg.Username != "" && (!unauthenticated[name] || s.cfg.AuthAlways) {
		how, err := s.authenticate(r, &req)
		rec.Auth = how
		if err != nil {
			rec.Refused = true
			s.record(rec)
			s.log.Debug("request refused", "op", name, "error", err)
			if s.cfg.Auth != AuthUsernameToken {
				w.Header().Set("WWW-Authenticate", s.digestChallenge())
			}
			s.writeFault(w, s.cfg.AuthFailStatus, Fault{Code: "Sender", Subcode: "NotAuthorized", Reason: "Sender not Authorized"})
			return
		}
	}
	s.record(rec)
	if op.XMLName.Space == nsMedia2 {
		s.answerMedia2(w, op)
		return
	}
	s.answer(w, op)
}

// authenticate checks a request according to the mode and returns how it
// was authenticated.
func (s *Server) authenticate(r *http.Request, req *requestXML) (string, error) {
	var tok *usernameTokenXML
	if req.Header.Security != nil {
		tok = req.Header.Security.UsernameToken
	}
	hasDigest := strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "digest ")
	switch s.cfg.Auth {
	case AuthHTTPDigest:
		return "digest", s.checkDigest(r)
	case AuthEither:
		if tok != nil {
			return "token", s.checkToken(tok, s.Now())
		}
		if hasDigest {
			return "digest", s.checkDigest(r)
		}
		return "", errors.New("no credentials")
	default:
		if tok == nil {
			return "", errors.New("no UsernameToken")
		}
		return "token", s.checkToken(tok, s.Now())
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// answer dispatches an authenticated operation.
func (s *Server) answer(w http.ResponseWriter, op *opXML) {
	name := op.XMLName.Local
	v := s.baseView(s.Now())
	var f *Fault
	switch name {
	case "GetSystemDateAndTime", "GetDeviceInformation", "GetCapabilities", "GetServices", "GetProfiles":
	case "GetStreamUri":
		p := s.media1Profile(op.ProfileToken)
		switch proto := strings.TrimSpace(op.StreamSetup.Transport.Protocol); {
		case p == nil:
			f = noProfile()
		case proto != "RTSP" && proto != "UDP" && proto != "TCP" && proto != "HTTP":
			f = &Fault{Code: "Sender", Subcode: "InvalidArgVal/InvalidStreamSetup", Reason: "Specification of StreamType or Transport part in StreamSetup is not supported."}
		default:
			v.URI = p.StreamURI
		}
	case "GetSnapshotUri":
		if p := s.media1Profile(op.ProfileToken); p == nil {
			f = noProfile()
		} else {
			v.URI = "http://" + s.advertise + SnapshotPath + "?profile=" + p.Token
		}
	case "ContinuousMove", "Stop", "GetPresets", "GotoPreset", "SetPreset", "RemovePreset":
		f = s.ptz(op, v)
	default:
		f = &Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "Optional Action Not Implemented"}
	}
	s.reply(w, name, v, f)
}

// media2Protocols are the values of tr2:TransportProtocol that a Media2
// GetStreamUri may ask for (ONVIF Media2 §5.6.1): RTP over UDP or
// multicast, RTP interleaved in RTSP over TCP, and RTSP tunnelled in HTTP.
var media2Protocols = map[string]bool{"RtspUnicast": true, "RtspMulticast": true, "RTSP": true, "RtspOverHttp": true}

// answerMedia2 dispatches an authenticated Media2 operation.
func (s *Server) answerMedia2(w http.ResponseWriter, op *opXML) {
	name := op.XMLName.Local
	if !s.cfg.Media2 {
		s.writeFault(w, 0, Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "Optional Action Not Implemented"})
		return
	}
	v := s.baseView(s.Now())
	var f *Fault
	switch name {
	case "GetProfiles":
		v.Configs = newConfigTypes(op.Types)
	case "GetStreamUri":
		p := s.profile(op.ProfileToken)
		switch proto := strings.TrimSpace(op.Protocol); {
		case p == nil:
			f = noProfile()
		case !media2Protocols[proto]:
			f = &Fault{Code: "Sender", Subcode: "InvalidArgVal/InvalidStreamSetup", Reason: "The requested Protocol is not supported."}
		default:
			v.URI = p.StreamURI
		}
	case "GetSnapshotUri":
		if p := s.profile(op.ProfileToken); p == nil {
			f = noProfile()
		} else {
			v.URI = "http://" + s.advertise + SnapshotPath + "?profile=" + p.Token
		}
	default:
		f = &Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "Optional Action Not Implemented"}
	}
	s.reply(w, "Media2_"+name, v, f)
}

// reply sends the fault f, or else renders the template tmpl with v.
func (s *Server) reply(w http.ResponseWriter, tmpl string, v *view, f *Fault) {
	if f != nil {
		s.writeFault(w, 0, *f)
		return
	}
	body, err := s.render(tmpl, v)
	if err != nil {
		s.log.Error("render failed", "template", tmpl, "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.writeSOAP(w, http.StatusOK, body)
}

func (s *Server) profile(token string) *profileView {
	token = strings.TrimSpace(token)
	for i := range s.profiles {
		if s.profiles[i].Token == token {
			return &s.profiles[i]
		}
	}
	return nil
}

// media1Profile returns a profile that Media (ver10) lists.
func (s *Server) media1Profile(token string) *profileView {
	if p := s.profile(token); p != nil && !p.Media2Only {
		return p
	}
	return nil
}

func noProfile() *Fault {
	return &Fault{Code: "Sender", Subcode: "InvalidArgVal/NoProfile", Reason: "The requested profile token ProfileToken does not exist."}
}
