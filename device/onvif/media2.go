package onvif

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
)

// Media2 is the media service of ONVIF Profile T (ONVIF Media2 Service
// Specification, namespace ver20/media/wsdl). Media (ver10) can only name
// JPEG, MPEG4 and H264 encoders (tt:VideoEncoding), so firmware shows an
// H.265 stream through Media2 alone, or through Media with a wrong codec.
// The library has no Media2 types: the requests and replies are ours.

// media2StreamProtocol is the tr2:TransportProtocol asked of GetStreamUri:
// RTP over RTSP (Media2 §5.6.1). The URI is the same for every RTSP
// transport; the ingest picks UDP or TCP when it sets the stream up.
const media2StreamProtocol = "RtspUnicast"

// getProfiles2Request is Media2 GetProfiles (§5.2.2). Without a Type the
// device lists profiles without their configurations; "All" asks for
// every configuration type (tr2:ConfigurationEnumeration).
type getProfiles2Request struct {
	XMLName xml.Name `xml:"tr2:GetProfiles"`
	Types   []string `xml:"tr2:Type"`
}

// getStreamURI2Request is Media2 GetStreamUri (§5.6.1).
type getStreamURI2Request struct {
	XMLName      xml.Name `xml:"tr2:GetStreamUri"`
	Protocol     string   `xml:"tr2:Protocol"`
	ProfileToken string   `xml:"tr2:ProfileToken"`
}

// getSnapshotURI2Request is Media2 GetSnapshotUri (§5.6.3).
type getSnapshotURI2Request struct {
	XMLName      xml.Name `xml:"tr2:GetSnapshotUri"`
	ProfileToken string   `xml:"tr2:ProfileToken"`
}

// media2Endpoint returns the Media2 service address, or ErrNoService.
func (c *Client) media2Endpoint(ctx context.Context) (string, error) {
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	if ep.Media2 == "" {
		return "", fmt.Errorf("%w: Media2", ErrNoService)
	}
	return ep.Media2, nil
}

// GetProfiles2 reads all media profiles through Media2, with every
// configuration. It returns ErrNoService when the device lists no Media2
// service.
func (c *Client) GetProfiles2(ctx context.Context) ([]Profile, error) {
	ep, err := c.media2Endpoint(ctx)
	if err != nil {
		return nil, err
	}
	var r profiles2ResponseXML
	if err := c.call(ctx, ep, nsMedia2, "GetProfiles", getProfiles2Request{Types: []string{"All"}}, "GetProfilesResponse", &r, true); err != nil {
		return nil, fmt.Errorf("media2: %w", err)
	}
	return r.toProfiles(), nil
}

// GetStreamURI2 returns the RTSP URI of a profile from Media2, as the device
// reports it. It returns ErrNoService when the device lists no Media2
// service.
func (c *Client) GetStreamURI2(ctx context.Context, profileToken string) (string, error) {
	ep, err := c.media2Endpoint(ctx)
	if err != nil {
		return "", err
	}
	req := getStreamURI2Request{Protocol: media2StreamProtocol, ProfileToken: profileToken}
	var r media2URIResponseXML
	if err := c.call(ctx, ep, nsMedia2, "GetStreamUri", req, "GetStreamUriResponse", &r, true); err != nil {
		return "", fmt.Errorf("media2: %w", err)
	}
	return r.uri("media2 GetStreamUri")
}

// GetSnapshotURI2 returns the JPEG snapshot URI of a profile from Media2,
// as the device reports it. It returns ErrNoService when the device lists
// no Media2 service.
func (c *Client) GetSnapshotURI2(ctx context.Context, profileToken string) (string, error) {
	ep, err := c.media2Endpoint(ctx)
	if err != nil {
		return "", err
	}
	var r media2URIResponseXML
	if err := c.call(ctx, ep, nsMedia2, "GetSnapshotUri", getSnapshotURI2Request{ProfileToken: profileToken}, "GetSnapshotUriResponse", &r, true); err != nil {
		return "", fmt.Errorf("media2: %w", err)
	}
	return r.uri("media2 GetSnapshotUri")
}

// The replies, matched by local names: vendors write the profile's Name as
// tr2:Name (the schema's) or tt:Name, and bind tr2 on the envelope or on
// the response element.

type profiles2ResponseXML struct {
	Profiles []profile2XML `xml:"Profiles"`
}

// profile2XML is a tr2:MediaProfile: the configurations sit in one
// tr2:ConfigurationSet instead of directly in the profile.
type profile2XML struct {
	Token          string `xml:"token,attr"`
	Fixed          string `xml:"fixed,attr"`
	Name           string `xml:"Name"`
	Configurations struct {
		VideoSource *struct {
			SourceToken string `xml:"SourceToken"`
		} `xml:"VideoSource"`
		// VideoEncoder is a tt:VideoEncoder2Configuration: GovLength and
		// the codec profile moved into attributes, the frame rate limit is
		// a float.
		VideoEncoder *struct {
			Token       string `xml:"token,attr"`
			GovLength   string `xml:"GovLength,attr"`
			Profile     string `xml:"Profile,attr"`
			Encoding    string `xml:"Encoding"`
			Resolution  resolutionXML
			RateControl struct {
				FrameRateLimit string `xml:"FrameRateLimit"`
				BitrateLimit   string `xml:"BitrateLimit"`
			} `xml:"RateControl"`
		} `xml:"VideoEncoder"`
		// AudioEncoder is a tt:AudioEncoder2Configuration, whose Encoding
		// is a MIME subtype ("PCMU", "MP4A-LATM").
		AudioEncoder *struct {
			Token      string `xml:"token,attr"`
			Encoding   string `xml:"Encoding"`
			Bitrate    string `xml:"Bitrate"`
			SampleRate string `xml:"SampleRate"`
		} `xml:"AudioEncoder"`
		PTZ *struct{} `xml:"PTZ"`
	} `xml:"Configurations"`
}

type resolutionXML struct {
	Width  string `xml:"Width"`
	Height string `xml:"Height"`
}

func (r *profiles2ResponseXML) toProfiles() []Profile {
	out := make([]Profile, 0, len(r.Profiles))
	for _, p := range r.Profiles {
		cs := &p.Configurations
		pr := Profile{
			Token: strings.TrimSpace(p.Token),
			Name:  strings.TrimSpace(p.Name),
			Fixed: parseBool(p.Fixed),
			PTZ:   cs.PTZ != nil,
		}
		if cs.VideoSource != nil {
			pr.VideoSourceToken = strings.TrimSpace(cs.VideoSource.SourceToken)
		}
		if v := cs.VideoEncoder; v != nil {
			pr.Video = &VideoEncoder{
				Token:        strings.TrimSpace(v.Token),
				Codec:        normalizeCodec(v.Encoding),
				Width:        parseNumber(v.Resolution.Width),
				Height:       parseNumber(v.Resolution.Height),
				FPS:          parseNumber(v.RateControl.FrameRateLimit),
				BitrateKbps:  parseNumber(v.RateControl.BitrateLimit),
				GovLength:    parseNumber(v.GovLength),
				CodecProfile: strings.TrimSpace(v.Profile),
			}
		}
		if a := cs.AudioEncoder; a != nil {
			pr.Audio = &AudioEncoder{
				Token:         strings.TrimSpace(a.Token),
				Codec:         normalizeAudioCodec(a.Encoding),
				BitrateKbps:   parseNumber(a.Bitrate),
				SampleRateKHz: parseNumber(a.SampleRate),
			}
		}
		out = append(out, pr)
	}
	return out
}

// media2URIResponseXML is GetStreamUriResponse or GetSnapshotUriResponse of
// Media2: the URI itself, without Media's MediaUri wrapper.
type media2URIResponseXML struct {
	URI string `xml:"Uri"`
}

func (r *media2URIResponseXML) uri(op string) (string, error) {
	u := strings.TrimSpace(r.URI)
	if u == "" {
		return "", fmt.Errorf("onvif %s: %w: no Uri", op, ErrBadResponse)
	}
	return u, nil
}
