package onvifsim

import (
	"strings"
	"testing"
)

// soapBody wraps one request element in a SOAP 1.2 envelope.
func soapBody(op string) string {
	return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>` + op + `</s:Body></s:Envelope>`
}

func TestMedia2(t *testing.T) {
	s := startSim(t, Config{Vendor: VendorHikvision, Media2: true, Profiles: H265Profiles()})
	media2 := "http://" + s.Addr() + "/onvif/Media2"
	const tr2 = `xmlns="http://www.onvif.org/ver20/media/wsdl"`
	cases := []struct {
		name, url, op string
		status        int
		has, hasNot   []string
	}{
		{"profiles, every configuration", media2, `<GetProfiles ` + tr2 + `><Type>All</Type></GetProfiles>`, 200,
			[]string{`<tr2:Profiles token="Profile_1"`, `<tt:Encoding>H265</tt:Encoding>`, `<tr2:Profiles token="Profile_2"`, "<tr2:PTZ ", "<tr2:AudioEncoder "}, nil},
		{"profiles without Type", media2, `<GetProfiles ` + tr2 + `/>`, 200,
			[]string{`<tr2:Profiles token="Profile_1"`}, []string{"Configurations"}},
		{"profiles, encoders only", media2, `<GetProfiles ` + tr2 + `><Type>VideoEncoder</Type></GetProfiles>`, 200,
			[]string{"<tr2:VideoEncoder "}, []string{"<tr2:VideoSource ", "<tr2:PTZ "}},
		{"stream URI", media2, `<GetStreamUri ` + tr2 + `><Protocol>RtspUnicast</Protocol><ProfileToken>Profile_1</ProfileToken></GetStreamUri>`, 200,
			[]string{"<tr2:Uri>rtsp://127.0.0.1:554/Streaming/Channels/101"}, nil},
		{"stream URI, Media's protocol name", media2, `<GetStreamUri ` + tr2 + `><Protocol>RTP-Unicast</Protocol><ProfileToken>Profile_1</ProfileToken></GetStreamUri>`, 400,
			[]string{"ter:InvalidStreamSetup"}, nil},
		{"stream URI, unknown profile", media2, `<GetStreamUri ` + tr2 + `><Protocol>RTSP</Protocol><ProfileToken>x</ProfileToken></GetStreamUri>`, 400,
			[]string{"ter:NoProfile"}, nil},
		{"snapshot URI", media2, `<GetSnapshotUri ` + tr2 + `><ProfileToken>Profile_2</ProfileToken></GetSnapshotUri>`, 200,
			[]string{"<tr2:Uri>http://" + s.Addr() + "/snapshot.jpg?profile=Profile_2</tr2:Uri>"}, nil},
		// Media (ver10) does not know the H.265 profile.
		{"Media profiles", "http://" + s.Addr() + "/onvif/Media", `<GetProfiles xmlns="http://www.onvif.org/ver10/media/wsdl"/>`, 200,
			[]string{`<trt:Profiles token="Profile_2"`}, []string{"Profile_1"}},
		{"Media stream URI of the H.265 profile", "http://" + s.Addr() + "/onvif/Media",
			`<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl"><StreamSetup><Stream xmlns="http://www.onvif.org/ver10/schema">RTP-Unicast</Stream><Transport xmlns="http://www.onvif.org/ver10/schema"><Protocol>RTSP</Protocol></Transport></StreamSetup><ProfileToken>Profile_1</ProfileToken></GetStreamUri>`, 400,
			[]string{"ter:NoProfile"}, nil},
		{"services", s.URL(), `<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl"><IncludeCapability>false</IncludeCapability></GetServices>`, 200,
			[]string{"<tds:Namespace>http://www.onvif.org/ver20/media/wsdl</tds:Namespace>\n<tds:XAddr>" + media2 + "</tds:XAddr>"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := post(t, c.url, soapBody(c.op))
			if status != c.status {
				t.Fatalf("status %d: %s", status, body)
			}
			for _, h := range c.has {
				if !strings.Contains(body, h) {
					t.Errorf("no %q in %s", h, body)
				}
			}
			for _, h := range c.hasNot {
				if strings.Contains(body, h) {
					t.Errorf("%q in %s", h, body)
				}
			}
		})
	}
	if got := s.Requests(); len(got) == 0 || got[0].Op != Media2Op("GetProfiles") || got[0].Path != "/onvif/Media2" {
		t.Errorf("requests %+v", got)
	}

	// Firmware without Media2: nothing at its path, and its operations at a
	// shared path are not supported.
	if status, body := post(t, "http://"+startSim(t, Config{}).Addr()+"/onvif/Media2", soapBody(`<GetProfiles `+tr2+`/>`)); status != 404 {
		t.Errorf("Media2 path without Media2: %d %s", status, body)
	}
	plain := startSim(t, Config{Vendor: VendorAxis})
	if status, body := post(t, "http://"+plain.Addr()+"/onvif/services", soapBody(`<GetProfiles `+tr2+`/>`)); status != 500 || !strings.Contains(body, "ter:ActionNotSupported") {
		t.Errorf("Media2 request without Media2: %d %s", status, body)
	}
	if _, body := post(t, plain.URL(), soapBody(`<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl"/>`)); strings.Contains(body, "ver20/media") {
		t.Errorf("Media2 listed: %s", body)
	}
}
