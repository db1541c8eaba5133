package onvifsim

import (
	"fmt"
	"net"
	"time"
)

// vendorStyle is what differs between the simulated firmwares besides the
// templates: identity, tokens, service paths, clock zone and realm.
type vendorStyle struct {
	env  string // envelope prefix, for faults and discovery
	info DeviceInfo
	// tz is the POSIX zone reported; tzOffset the matching offset of local
	// time from UTC (daylight saving is not simulated).
	tz       string
	tzOffset time.Duration
	paths    servicePaths
	realm    string
	// profile makes the default token, name and encoder token of profile i.
	profile func(i int) (token, name, encoder, encoderName string)
	// videoSource is the video source token.
	videoSource string
	// streamURI makes the default RTSP URI of profile i on host.
	streamURI func(host string, i int, token string) string
	scopes    []string
}

type servicePaths struct {
	Device, Media, Media2, PTZ, Events, Imaging, Analytics, DeviceIO, Recording, Search, Replay string
}

var vendorStyles = map[Vendor]*vendorStyle{
	VendorHikvision: {
		env: "env",
		info: DeviceInfo{
			Manufacturer: "HIKVISION", Model: "DS-2DE4425IW-DE",
			FirmwareVersion: "V5.7.3 build 220112", SerialNumber: "DS-2DE4425IW-DE20220101AAWRJ00000000",
			HardwareID: "88",
		},
		tz: "CST-8:00:00", tzOffset: 8 * time.Hour,
		paths: servicePaths{
			Device: "/onvif/device_service", Media: "/onvif/Media", Media2: "/onvif/Media2", PTZ: "/onvif/PTZ",
			Events: "/onvif/Events", Imaging: "/onvif/Imaging", Analytics: "/onvif/Analytics",
			DeviceIO: "/onvif/DeviceIO", Recording: "/onvif/Recording", Search: "/onvif/SearchRecording",
			Replay: "/onvif/Replay",
		},
		realm: "IP Camera(J0000)",
		profile: func(i int) (string, string, string, string) {
			names := []string{"mainStream", "subStream", "thirdStream"}
			name := fmt.Sprintf("stream%d", i+1)
			if i < len(names) {
				name = names[i]
			}
			return fmt.Sprintf("Profile_%d", i+1), name, fmt.Sprintf("VideoEncoderToken_%d", i+1), fmt.Sprintf("VideoEncoder_%d", i+1)
		},
		videoSource: "VideoSource_1",
		streamURI: func(host string, i int, token string) string {
			return fmt.Sprintf("rtsp://%s/Streaming/Channels/1%02d?transportmode=unicast&profile=%s", net.JoinHostPort(host, "554"), i+1, token)
		},
		scopes: []string{
			"onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/Profile/Streaming",
			"onvif://www.onvif.org/type/ptz", "onvif://www.onvif.org/MAC/c0:56:e3:00:00:01",
			"onvif://www.onvif.org/hardware/DS-2DE4425IW-DE", "onvif://www.onvif.org/name/HIKVISION%20DS-2DE4425IW-DE",
			"onvif://www.onvif.org/location/city/hangzhou",
		},
	},
	VendorDahua: {
		env: "s",
		info: DeviceInfo{
			Manufacturer: "Dahua", Model: "SD49225XA-HNR",
			FirmwareVersion: "2.800.0000000.30.R, Build Date 2021-03-18", SerialNumber: "6J0A000PAZ00000",
			HardwareID: "1.00",
		},
		tz: "CST-8", tzOffset: 8 * time.Hour,
		paths: servicePaths{
			Device: "/onvif/device_service", Media: "/onvif/media_service", Media2: "/onvif/media2_service", PTZ: "/onvif/ptz_service",
			Events: "/onvif/event_service", Imaging: "/onvif/imaging_service", Analytics: "/onvif/analytics_service",
			DeviceIO: "/onvif/deviceIO_service", Recording: "/onvif/recording_service", Search: "/onvif/search_service",
			Replay: "/onvif/replay_service",
		},
		realm: "Login to 6J0A000PAZ00000",
		profile: func(i int) (string, string, string, string) {
			name := "MediaProfile_Channel1_MainStream"
			if i > 0 {
				name = fmt.Sprintf("MediaProfile_Channel1_SubStream%d", i)
			}
			return fmt.Sprintf("MediaProfile%03d", i), name, fmt.Sprintf("%05d", i), fmt.Sprintf("VideoEncoderConfig_Channel1_Stream%d", i)
		},
		videoSource: "00000",
		streamURI: func(host string, i int, _ string) string {
			return fmt.Sprintf("rtsp://%s/cam/realmonitor?channel=1&subtype=%d&unicast=true&proto=Onvif", net.JoinHostPort(host, "554"), i)
		},
		scopes: []string{
			"onvif://www.onvif.org/location/country/china", "onvif://www.onvif.org/name/Dahua",
			"onvif://www.onvif.org/hardware/SD49225XA-HNR", "onvif://www.onvif.org/Profile/Streaming",
			"onvif://www.onvif.org/type/Network_Video_Transmitter", "onvif://www.onvif.org/extension/unique_identifier/1",
		},
	},
	VendorAxis: {
		env: "SOAP-ENV",
		info: DeviceInfo{
			Manufacturer: "AXIS", Model: "Q6075-E",
			FirmwareVersion: "10.12.114", SerialNumber: "ACCC8E000001", HardwareID: "7B3",
		},
		tz: "CET-1", tzOffset: time.Hour,
		paths: servicePaths{
			// One endpoint for every service: requests are told apart by
			// their namespace, Media and Media2 included.
			Device: "/onvif/device_service", Media: "/onvif/services", Media2: "/onvif/services", PTZ: "/onvif/services",
			Events: "/onvif/services", Imaging: "/onvif/services", Analytics: "/onvif/services",
			DeviceIO: "/onvif/services", Recording: "/onvif/services", Search: "/onvif/services",
			Replay: "/onvif/services",
		},
		realm: "AXIS_ACCC8E000001",
		profile: func(i int) (string, string, string, string) {
			return fmt.Sprintf("profile_%d_h264", i+1), fmt.Sprintf("profile_%d h264", i+1), fmt.Sprintf("default_%d_h264", i+1), fmt.Sprintf("default_%d h264", i+1)
		},
		videoSource: "0",
		streamURI: func(host string, i int, token string) string {
			return fmt.Sprintf("rtsp://%s/onvif-media/media.amp?profile=%s&sessiontimeout=60&streamtype=unicast", host, token)
		},
		scopes: []string{
			"onvif://www.onvif.org/type/video_encoder", "onvif://www.onvif.org/type/audio_encoder",
			"onvif://www.onvif.org/type/ptz", "onvif://www.onvif.org/hardware/Q6075-E",
			"onvif://www.onvif.org/name/AXIS%20Q6075-E", "onvif://www.onvif.org/location/",
			"onvif://www.onvif.org/Profile/Streaming", "onvif://www.onvif.org/Profile/G",
		},
	},
}
