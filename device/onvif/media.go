package onvif

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/use-go/onvif/media"
	"github.com/use-go/onvif/xsd/onvif"
)

// Codec names as this package reports them, whatever spelling the device
// used ("H.264", "h264", "HEVC", "MJPEG", …).
const (
	CodecH264  = "H264"
	CodecH265  = "H265"
	CodecJPEG  = "JPEG"
	CodecMPEG4 = "MPEG4"
)

// Profile is a media profile from GetProfiles.
type Profile struct {
	Token string
	Name  string
	// Fixed profiles cannot be deleted.
	Fixed bool
	// VideoSourceToken names the sensor or channel the profile encodes; an
	// NVR has one per camera input.
	VideoSourceToken string
	// Video is nil for a profile without a video encoder.
	Video *VideoEncoder
	// Audio is nil for a profile without an audio encoder.
	Audio *AudioEncoder
	// PTZ reports whether the profile has a PTZ configuration, i.e. whether
	// PTZ operations with this profile token can work.
	PTZ bool
}

// VideoEncoder is a profile's video encoder configuration.
type VideoEncoder struct {
	Token string
	// Codec is one of the Codec constants, or the device's word upper-cased.
	Codec         string
	Width, Height int
	// FPS is the frame rate limit; 0 when unknown.
	FPS int
	// BitrateKbps is the bitrate limit in kbit/s; 0 when unknown.
	BitrateKbps int
	// GovLength is the keyframe interval in frames; 0 when unknown.
	GovLength int
	// H264Profile or the like ("Main", "High"); empty when unknown.
	CodecProfile string
}

// AudioEncoder is a profile's audio encoder configuration.
type AudioEncoder struct {
	Token string
	// Codec is "G711", "G726", "AAC", or the device's word upper-cased;
	// Media2's MIME names are mapped onto these (see normalizeAudioCodec).
	Codec       string
	BitrateKbps int
	// SampleRateKHz is the sample rate in kHz (ONVIF's unit).
	SampleRateKHz int
}

// GetProfiles reads all media profiles.
func (c *Client) GetProfiles(ctx context.Context) ([]Profile, error) {
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	var r profilesResponseXML
	if err := c.call(ctx, ep.Media, nsMedia, "GetProfiles", media.GetProfiles{}, "GetProfilesResponse", &r, true); err != nil {
		return nil, err
	}
	return r.toProfiles(), nil
}

// GetStreamURI returns the RTSP URI of a profile (RTP unicast over RTSP,
// ONVIF Media §5.15.1), as the device reports it.
func (c *Client) GetStreamURI(ctx context.Context, profileToken string) (string, error) {
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	req := media.GetStreamUri{
		StreamSetup: onvif.StreamSetup{
			Stream:    "RTP-Unicast",
			Transport: onvif.Transport{Protocol: "RTSP"},
		},
		ProfileToken: onvif.ReferenceToken(profileToken),
	}
	var r mediaURIResponseXML
	if err := c.call(ctx, ep.Media, nsMedia, "GetStreamUri", req, "GetStreamUriResponse", &r, true); err != nil {
		return "", err
	}
	return r.uri("GetStreamUri")
}

// GetSnapshotURI returns the HTTP URI of a JPEG snapshot of a profile, as
// the device reports it.
func (c *Client) GetSnapshotURI(ctx context.Context, profileToken string) (string, error) {
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	req := media.GetSnapshotUri{ProfileToken: onvif.ReferenceToken(profileToken)}
	var r mediaURIResponseXML
	if err := c.call(ctx, ep.Media, nsMedia, "GetSnapshotUri", req, "GetSnapshotUriResponse", &r, true); err != nil {
		return "", err
	}
	return r.uri("GetSnapshotUri")
}

type profilesResponseXML struct {
	Profiles []profileXML `xml:"Profiles"`
}

type profileXML struct {
	Token       string `xml:"token,attr"`
	Fixed       string `xml:"fixed,attr"`
	Name        string `xml:"Name"`
	VideoSource *struct {
		SourceToken string `xml:"SourceToken"`
	} `xml:"VideoSourceConfiguration"`
	VideoEncoder *struct {
		Token      string `xml:"token,attr"`
		Encoding   string `xml:"Encoding"`
		Resolution struct {
			Width  string `xml:"Width"`
			Height string `xml:"Height"`
		} `xml:"Resolution"`
		RateControl struct {
			FrameRateLimit string `xml:"FrameRateLimit"`
			BitrateLimit   string `xml:"BitrateLimit"`
		} `xml:"RateControl"`
		H264 struct {
			GovLength   string `xml:"GovLength"`
			H264Profile string `xml:"H264Profile"`
		} `xml:"H264"`
		MPEG4 struct {
			GovLength    string `xml:"GovLength"`
			Mpeg4Profile string `xml:"Mpeg4Profile"`
		} `xml:"MPEG4"`
	} `xml:"VideoEncoderConfiguration"`
	AudioEncoder *struct {
		Token      string `xml:"token,attr"`
		Encoding   string `xml:"Encoding"`
		Bitrate    string `xml:"Bitrate"`
		SampleRate string `xml:"SampleRate"`
	} `xml:"AudioEncoderConfiguration"`
	PTZ *struct{} `xml:"PTZConfiguration"`
}

func (r *profilesResponseXML) toProfiles() []Profile {
	out := make([]Profile, 0, len(r.Profiles))
	for _, p := range r.Profiles {
		pr := Profile{
			Token: strings.TrimSpace(p.Token),
			Name:  strings.TrimSpace(p.Name),
			Fixed: parseBool(p.Fixed),
			PTZ:   p.PTZ != nil,
		}
		if p.VideoSource != nil {
			pr.VideoSourceToken = strings.TrimSpace(p.VideoSource.SourceToken)
		}
		if v := p.VideoEncoder; v != nil {
			ve := &VideoEncoder{
				Token:       strings.TrimSpace(v.Token),
				Codec:       normalizeCodec(v.Encoding),
				Width:       parseNumber(v.Resolution.Width),
				Height:      parseNumber(v.Resolution.Height),
				FPS:         parseNumber(v.RateControl.FrameRateLimit),
				BitrateKbps: parseNumber(v.RateControl.BitrateLimit),
			}
			switch ve.Codec {
			case CodecH264:
				ve.GovLength = parseNumber(v.H264.GovLength)
				ve.CodecProfile = strings.TrimSpace(v.H264.H264Profile)
			case CodecMPEG4:
				ve.GovLength = parseNumber(v.MPEG4.GovLength)
				ve.CodecProfile = strings.TrimSpace(v.MPEG4.Mpeg4Profile)
			}
			pr.Video = ve
		}
		if a := p.AudioEncoder; a != nil {
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

// normalizeCodec maps the spellings devices use onto the Codec constants.
// Media (ver10) only defines JPEG, MPEG4 and H264; devices that stream H.265
// through it write "H265" or "HEVC" there anyway. Media2 uses the IANA
// media subtypes (H264, H265, JPEG, MPV4-ES).
func normalizeCodec(s string) string {
	k := strings.ToUpper(strings.TrimSpace(s))
	switch strings.NewReplacer(".", "", "-", "", "_", "", " ", "").Replace(k) {
	case "H264", "AVC":
		return CodecH264
	case "H265", "HEVC":
		return CodecH265
	case "JPEG", "MJPEG", "MJPG":
		return CodecJPEG
	case "MPEG4", "MP4V", "MPV4ES":
		return CodecMPEG4
	}
	return k
}

// normalizeAudioCodec maps the audio encodings of Media (G711, G726, AAC)
// and the IANA media subtypes Media2 uses instead (PCMU, PCMA, G726,
// MP4A-LATM, mpeg4-generic) onto Media's names.
func normalizeAudioCodec(s string) string {
	k := strings.ToUpper(strings.TrimSpace(s))
	switch k {
	case "PCMU", "PCMA", "G711", "G.711":
		return "G711"
	case "MP4A-LATM", "MPEG4-GENERIC", "AAC":
		return "AAC"
	case "G.726":
		return "G726"
	}
	return k
}

// parseNumber reads an integer that some firmware writes as a decimal
// ("25.000000"); anything unreadable or absurd is 0.
func parseNumber(s string) int {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > math.MaxInt32 {
			return 0
		}
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
		return 0
	}
	return int(math.Round(f))
}

type mediaURIResponseXML struct {
	MediaURI struct {
		URI string `xml:"Uri"`
	} `xml:"MediaUri"`
}

func (r *mediaURIResponseXML) uri(op string) (string, error) {
	u := strings.TrimSpace(r.MediaURI.URI)
	if u == "" {
		return "", fmt.Errorf("onvif %s: %w: no Uri", op, ErrBadResponse)
	}
	return u, nil
}
