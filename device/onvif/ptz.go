package onvif

import (
	"context"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/use-go/onvif/ptz"
	"github.com/use-go/onvif/xsd/onvif"
)

// Velocity is a PTZ speed in the generic velocity spaces (ONVIF PTZ
// §5.3.3): each axis from -1 to 1, positive is right, up and zoom in.
type Velocity struct {
	Pan, Tilt, Zoom float64
}

// Preset is a PTZ preset.
type Preset struct {
	Token string
	Name  string
	// Position is nil when the device does not report it.
	Position *PTZVector
}

// PTZVector is a position in the generic position spaces.
type PTZVector struct {
	Pan, Tilt, Zoom float64
}

func (c *Client) ptzEndpoint(ctx context.Context) (string, error) {
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	if ep.PTZ == "" {
		return "", fmt.Errorf("%w: PTZ", ErrNoService)
	}
	return ep.PTZ, nil
}

// continuousMoveXML replaces the library's ContinuousMove, which always
// writes both axes with an empty space attribute and an empty Timeout (an
// invalid xs:duration some cameras fault on).
type continuousMoveXML struct {
	XMLName      xml.Name `xml:"tptz:ContinuousMove"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
	Velocity     speedXML `xml:"tptz:Velocity"`
	Timeout      string   `xml:"tptz:Timeout,omitempty"`
}

type speedXML struct {
	PanTilt *vector2DXML `xml:"tt:PanTilt,omitempty"`
	Zoom    *vector1DXML `xml:"tt:Zoom,omitempty"`
}

type vector2DXML struct {
	X float64 `xml:"x,attr"`
	Y float64 `xml:"y,attr"`
}

type vector1DXML struct {
	X float64 `xml:"x,attr"`
}

// speed writes only the axes that move: cameras without zoom fault on a Zoom
// element. All axes at zero is written as a pan/tilt of zero.
func speed(v Velocity) speedXML {
	var s speedXML
	p, t, z := clampUnit(v.Pan), clampUnit(v.Tilt), clampUnit(v.Zoom)
	if p != 0 || t != 0 || z == 0 {
		s.PanTilt = &vector2DXML{X: p, Y: t}
	}
	if z != 0 {
		s.Zoom = &vector1DXML{X: z}
	}
	return s
}

func clampUnit(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Max(-1, math.Min(1, f))
}

// xsdDuration formats d as an xs:duration ("PT1.5S").
func xsdDuration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// ContinuousMove starts moving at v until Stop, or for timeout when it is
// positive (the device's default timeout otherwise).
func (c *Client) ContinuousMove(ctx context.Context, profileToken string, v Velocity, timeout time.Duration) error {
	ep, err := c.ptzEndpoint(ctx)
	if err != nil {
		return err
	}
	req := continuousMoveXML{ProfileToken: profileToken, Velocity: speed(v)}
	if timeout > 0 {
		req.Timeout = xsdDuration(timeout)
	}
	return c.call(ctx, ep, nsPTZ, "ContinuousMove", req, "ContinuousMoveResponse", nil, true)
}

// Stop stops pan/tilt and zoom movement.
func (c *Client) Stop(ctx context.Context, profileToken string) error {
	ep, err := c.ptzEndpoint(ctx)
	if err != nil {
		return err
	}
	req := ptz.Stop{ProfileToken: onvif.ReferenceToken(profileToken), PanTilt: true, Zoom: true}
	return c.call(ctx, ep, nsPTZ, "Stop", req, "StopResponse", nil, true)
}

// GetPresets lists every preset of the profile's PTZ node. (The library's
// GetPresetsResponse keeps only one.)
func (c *Client) GetPresets(ctx context.Context, profileToken string) ([]Preset, error) {
	ep, err := c.ptzEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	var r presetsResponseXML
	req := ptz.GetPresets{ProfileToken: onvif.ReferenceToken(profileToken)}
	if err := c.call(ctx, ep, nsPTZ, "GetPresets", req, "GetPresetsResponse", &r, true); err != nil {
		return nil, err
	}
	return r.toPresets(), nil
}

// gotoPresetXML replaces the library's GotoPreset, which always writes a
// Speed of zero: some cameras then do not move at all.
type gotoPresetXML struct {
	XMLName      xml.Name  `xml:"tptz:GotoPreset"`
	ProfileToken string    `xml:"tptz:ProfileToken"`
	PresetToken  string    `xml:"tptz:PresetToken"`
	Speed        *speedXML `xml:"tptz:Speed,omitempty"`
}

// GotoPreset moves to a preset, at the device's default speed when speed is
// nil.
func (c *Client) GotoPreset(ctx context.Context, profileToken, presetToken string, speedLimit *Velocity) error {
	ep, err := c.ptzEndpoint(ctx)
	if err != nil {
		return err
	}
	req := gotoPresetXML{ProfileToken: profileToken, PresetToken: presetToken}
	if speedLimit != nil {
		s := speed(*speedLimit)
		req.Speed = &s
	}
	return c.call(ctx, ep, nsPTZ, "GotoPreset", req, "GotoPresetResponse", nil, true)
}

// setPresetXML replaces the library's SetPreset, which always writes a
// PresetName, empty or not: an empty one renames the preset to "".
type setPresetXML struct {
	XMLName      xml.Name `xml:"tptz:SetPreset"`
	ProfileToken string   `xml:"tptz:ProfileToken"`
	PresetName   string   `xml:"tptz:PresetName,omitempty"`
	PresetToken  string   `xml:"tptz:PresetToken,omitempty"`
}

// SetPreset stores the current position as a preset and returns its token.
// An empty presetToken creates a new preset; a given one overwrites it. An
// empty name leaves the name to the device.
func (c *Client) SetPreset(ctx context.Context, profileToken, name, presetToken string) (string, error) {
	ep, err := c.ptzEndpoint(ctx)
	if err != nil {
		return "", err
	}
	var r struct {
		PresetToken string `xml:"PresetToken"`
	}
	req := setPresetXML{ProfileToken: profileToken, PresetName: name, PresetToken: presetToken}
	if err := c.call(ctx, ep, nsPTZ, "SetPreset", req, "SetPresetResponse", &r, true); err != nil {
		return "", err
	}
	tok := strings.TrimSpace(r.PresetToken)
	if tok == "" {
		return "", fmt.Errorf("onvif SetPreset: %w: no PresetToken", ErrBadResponse)
	}
	return tok, nil
}

// RemovePreset deletes a preset.
func (c *Client) RemovePreset(ctx context.Context, profileToken, presetToken string) error {
	ep, err := c.ptzEndpoint(ctx)
	if err != nil {
		return err
	}
	req := ptz.RemovePreset{ProfileToken: onvif.ReferenceToken(profileToken), PresetToken: onvif.ReferenceToken(presetToken)}
	return c.call(ctx, ep, nsPTZ, "RemovePreset", req, "RemovePresetResponse", nil, true)
}

type presetsResponseXML struct {
	Presets []struct {
		Token    string `xml:"token,attr"`
		Name     string `xml:"Name"`
		Position *struct {
			PanTilt *struct {
				X string `xml:"x,attr"`
				Y string `xml:"y,attr"`
			} `xml:"PanTilt"`
			Zoom *struct {
				X string `xml:"x,attr"`
			} `xml:"Zoom"`
		} `xml:"PTZPosition"`
	} `xml:"Preset"`
}

func (r *presetsResponseXML) toPresets() []Preset {
	out := make([]Preset, 0, len(r.Presets))
	for _, p := range r.Presets {
		pr := Preset{Token: strings.TrimSpace(p.Token), Name: strings.TrimSpace(p.Name)}
		if pos := p.Position; pos != nil && (pos.PanTilt != nil || pos.Zoom != nil) {
			v := &PTZVector{}
			if pos.PanTilt != nil {
				v.Pan, v.Tilt = parseFloat(pos.PanTilt.X), parseFloat(pos.PanTilt.Y)
			}
			if pos.Zoom != nil {
				v.Zoom = parseFloat(pos.Zoom.X)
			}
			pr.Position = v
		}
		out = append(out, pr)
	}
	return out
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
