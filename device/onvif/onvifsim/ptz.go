package onvifsim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PTZCall is a PTZ request the simulator received.
type PTZCall struct {
	// Op is ContinuousMove, Stop, GetPresets, GotoPreset, SetPreset or RemovePreset.
	Op           string
	ProfileToken string
	// Pan, Tilt and Zoom are ContinuousMove's velocity or GotoPreset's
	// speed; HasPanTilt and HasZoom say which elements were sent.
	Pan, Tilt, Zoom     float64
	HasPanTilt, HasZoom bool
	// Timeout is ContinuousMove's xs:duration as sent.
	Timeout string
	// StopPanTilt and StopZoom are Stop's flags as sent ("true", "false" or "").
	StopPanTilt, StopZoom   string
	PresetToken, PresetName string
}

// PTZCalls returns the PTZ requests received so far.
func (s *Server) PTZCalls() []PTZCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PTZCall(nil), s.ptzCalls...)
}

// Presets returns the current presets.
func (s *Server) Presets() []Preset {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Preset(nil), s.presets...)
}

// ptz handles a PTZ operation, filling v for the reply.
func (s *Server) ptz(op *opXML, v *view) *Fault {
	name := op.XMLName.Local
	if s.cfg.NoPTZ {
		return &Fault{Code: "Receiver", Subcode: "ActionNotSupported/PTZNotSupported", Reason: "PTZ is not supported by the device"}
	}
	if s.profile(op.ProfileToken) == nil {
		return noProfile()
	}
	call := PTZCall{Op: name, ProfileToken: strings.TrimSpace(op.ProfileToken), Timeout: strings.TrimSpace(op.Timeout),
		StopPanTilt: strings.TrimSpace(op.PanTilt), StopZoom: strings.TrimSpace(op.Zoom),
		PresetToken: strings.TrimSpace(op.PresetToken), PresetName: strings.TrimSpace(op.PresetName)}
	sp := op.Velocity
	if name == "GotoPreset" {
		sp = op.Speed
	}
	if sp != nil {
		if sp.PanTilt != nil {
			call.HasPanTilt = true
			var err1, err2 error
			call.Pan, err1 = strconv.ParseFloat(sp.PanTilt.X, 64)
			call.Tilt, err2 = strconv.ParseFloat(sp.PanTilt.Y, 64)
			if err1 != nil || err2 != nil || math.Abs(call.Pan) > 1 || math.Abs(call.Tilt) > 1 {
				return &Fault{Code: "Sender", Subcode: "InvalidArgVal/InvalidVelocity", Reason: "The requested velocity is out of bounds."}
			}
		}
		if sp.Zoom != nil {
			call.HasZoom = true
			var err error
			call.Zoom, err = strconv.ParseFloat(sp.Zoom.X, 64)
			if err != nil || math.Abs(call.Zoom) > 1 {
				return &Fault{Code: "Sender", Subcode: "InvalidArgVal/InvalidVelocity", Reason: "The requested velocity is out of bounds."}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ptzCalls = append(s.ptzCalls, call)
	switch name {
	case "ContinuousMove":
		if sp == nil || (sp.PanTilt == nil && sp.Zoom == nil) {
			return &Fault{Code: "Sender", Subcode: "InvalidArgVal/InvalidVelocity", Reason: "No velocity given."}
		}
	case "GetPresets":
		v.Presets = append([]Preset(nil), s.presets...)
	case "GotoPreset":
		if s.presetIndex(call.PresetToken) < 0 {
			return noToken()
		}
	case "RemovePreset":
		i := s.presetIndex(call.PresetToken)
		if i < 0 {
			return noToken()
		}
		s.presets = append(s.presets[:i], s.presets[i+1:]...)
	case "SetPreset":
		if call.PresetToken != "" {
			i := s.presetIndex(call.PresetToken)
			if i < 0 {
				return noToken()
			}
			if call.PresetName != "" {
				s.presets[i].Name = call.PresetName
			}
			v.PresetToken = call.PresetToken
			return nil
		}
		for _, p := range s.presets {
			if call.PresetName != "" && p.Name == call.PresetName {
				return &Fault{Code: "Sender", Subcode: "InvalidArgVal/PresetExist", Reason: "The requested name already exist for another preset."}
			}
		}
		tok := strconv.Itoa(s.nextPreset)
		s.nextPreset++
		name := call.PresetName
		if name == "" {
			name = fmt.Sprintf("Preset %s", tok)
		}
		s.presets = append(s.presets, Preset{Token: tok, Name: name})
		v.PresetToken = tok
	}
	return nil
}

func (s *Server) presetIndex(tok string) int {
	for i, p := range s.presets {
		if p.Token == tok {
			return i
		}
	}
	return -1
}

func noToken() *Fault {
	return &Fault{Code: "Sender", Subcode: "InvalidArgVal/NoToken", Reason: "The requested preset token does not exist."}
}
