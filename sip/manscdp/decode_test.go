package manscdp

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// shanghai is the zone of the devices' clocks in the test bodies.
var shanghai = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation(TimeLayout, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// bodyCase is one body of testdata/: what Decode must return for it. The
// same table seeds FuzzDecode.
type bodyCase struct {
	file    string
	hint    Charset
	charset Charset // charset Decode reports
	err     error   // sentinel the error must wrap, nil for success
	want    *Message
}

var bodyCases = []bodyCase{
	{
		file: "hikvision_keepalive.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Notify, CmdType: CmdKeepalive, SN: 1273, DeviceID: "34020000001180000001",
			Keepalive: &Keepalive{Status: "OK"}},
	},
	{
		// Pure ASCII keeps the remembered charset.
		file: "hikvision_keepalive.xml", hint: UTF8, charset: UTF8,
		want: &Message{Kind: Notify, CmdType: CmdKeepalive, SN: 1273, DeviceID: "34020000001180000001",
			Keepalive: &Keepalive{Status: "OK"}},
	},
	{
		file: "hikvision_nvr_catalog.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 17430, DeviceID: "34020000001180000001",
			Catalog: &Catalog{SumNum: 4, Items: []CatalogItem{
				{
					DeviceID: "34020000001310000001", Name: "大门口", Manufacturer: "Hikvision",
					Model: "DS-2CD3T46WDV3-I3", Owner: "Owner", CivilCode: "3402000000", Address: "大门口",
					ParentID: "34020000001180000001", RegisterWay: 1, IPAddress: "192.168.1.64", Port: 8000,
					Status: StatusOn, Longitude: 117.2272, Latitude: 31.8206, PTZType: 3,
				},
				{
					DeviceID: "34020000001310000002", Name: "一楼大厅", Manufacturer: "Hikvision",
					Model: "DS-2DE4425IW-DE", Owner: "Owner", CivilCode: "3402000000", Address: "一楼大厅",
					ParentID: "34020000001180000001", RegisterWay: 1, IPAddress: "192.168.1.65", Port: 8000,
					Status: StatusOff, PTZType: 1,
				},
			}}},
	},
	{
		// The remembered charset does not matter for a GB2312 body.
		file: "hikvision_nvr_catalog.xml", hint: UTF8, charset: GB2312,
		want: nil, // checked by the case above
	},
	{
		file: "hikvision_deviceinfo.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdDeviceInfo, SN: 17429, DeviceID: "34020000001180000001",
			Result: ResultOK, DeviceInfo: &DeviceInfo{DeviceName: "NVR", Manufacturer: "Hikvision",
				Model: "DS-7608N-K2", Firmware: "V4.30.085", Channel: 8}},
	},
	{
		file: "hikvision_recordinfo.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdRecordInfo, SN: 5521, DeviceID: "34020000001310000001",
			RecordInfo: &RecordInfo{Name: "大门口", SumNum: 2, Items: []RecordItem{
				{DeviceID: "34020000001310000001", Name: "大门口", FilePath: "ch01_00000000012000000",
					Address: "Address 1", StartTime: at("2024-03-18T08:00:00"), EndTime: at("2024-03-18T08:59:59"),
					Type: RecordTime, FileSize: 1 << 30},
				{DeviceID: "34020000001310000001", Name: "大门口", FilePath: "ch01_00000000012000001",
					Address: "Address 1", StartTime: at("2024-03-18T09:00:00"), EndTime: at("2024-03-18T09:30:12"),
					Type: RecordAlarm},
			}}},
	},
	{
		file: "dahua_catalog_utf8.xml", hint: GB2312, charset: UTF8,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 4, DeviceID: "34020000001320000101",
			Catalog: &Catalog{SumNum: 1, Items: []CatalogItem{{
				DeviceID: "34020000001320000101", Name: "停车场入口", Manufacturer: "Dahua",
				Model: "DH-IPC-HFW2433M", Owner: "0", CivilCode: "340200", Address: "axy",
				ParentID: "34020000002000000001", RegisterWay: 1, Status: StatusOn, PTZType: 3,
			}}}},
	},
	{
		// UTF-8 bytes under a prolog that says GB2312.
		file: "dahua_catalog_wrong_prolog.xml", hint: GB2312, charset: UTF8,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 9, DeviceID: "34020000001180000201",
			Catalog: &Catalog{SumNum: 2, Items: []CatalogItem{{
				DeviceID: "34020000001310000201", Name: "二楼走廊东", Manufacturer: "Dahua",
				Model: "DHI-NVR4108HS", Owner: "0", CivilCode: "3402000000", Address: "二楼走廊",
				ParentID: "34020000001180000201", RegisterWay: 1, Status: StatusOn,
			}}}},
	},
	{
		file: "uniview_catalog_notify.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Notify, CmdType: CmdCatalog, SN: 88, DeviceID: "34020000001180000301",
			Catalog: &Catalog{SumNum: 4, Items: []CatalogItem{
				{DeviceID: "34020000002150000001", Name: "园区监控", Event: EventAdd},
				{DeviceID: "34020000002160000001", Name: "东门岗亭", ParentID: "34020000002150000001",
					BusinessGroupID: "34020000002150000001", Event: EventAdd},
				{DeviceID: "34020000001310000301", Name: "东门车道", Manufacturer: "UNIVIEW",
					Model: "IPC2124LR3-PF40", Owner: "Owner", CivilCode: "3402000000", Address: "东门",
					ParentID: "34020000002160000001", RegisterWay: 1, Status: StatusOn, Event: EventUpdate,
					PTZType: 2, BusinessGroupID: "34020000002150000001"},
				{DeviceID: "34020000001310000302", Event: EventDel},
			}}},
	},
	{
		// BOM, lower-case names, a mismatched end tag, padded numbers,
		// no SumNum, "OK"/"offline" statuses, entities, NULs and garbage
		// after the root.
		file: "kedacom_catalog_quirks.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 31, DeviceID: "34020000001110000401",
			Catalog: &Catalog{SumNum: 2, Items: []CatalogItem{
				{DeviceID: "34020000001310000401", Name: "仓库&后门", Manufacturer: "KEDACOM", RegisterWay: 1,
					Port: 5060, Status: StatusOn, Longitude: 117.1, PTZType: 1},
				{DeviceID: "34020000001310000402", Name: "收费站\u00a0出口①", Status: StatusOff},
			}}},
	},
	{
		file: "kedacom_devicestatus.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdDeviceStatus, SN: 32, DeviceID: "34020000001110000401",
			Result: ResultOK, DeviceStatus: &DeviceStatus{Online: "ONLINE", Status: "OK", Encode: "ON", Record: "OFF",
				DeviceTime: at("2024-03-18T10:21:07").Add(125 * time.Millisecond),
				Alarms: []AlarmStatus{
					{DeviceID: "34020000001340000401", DutyStatus: "ONDUTY"},
					{DeviceID: "34020000001340000402", DutyStatus: "ALARM"},
				}}},
	},
	{
		file: "hikvision_alarm.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Notify, CmdType: CmdAlarm, SN: 1291, DeviceID: "34020000001310000002",
			Alarm: &Alarm{AlarmPriority: 4, AlarmMethod: 5, AlarmTime: at("2024-03-18T10:22:31"),
				AlarmDescription: "一楼大厅 移动侦测报警", AlarmType: 2}},
	},
	{
		file: "mobileposition.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Notify, CmdType: CmdMobilePosition, SN: 502, DeviceID: "34020000001320000501",
			MobilePosition: &MobilePosition{Time: at("2024-03-18T10:30:00"), Longitude: 117.283042,
				Latitude: 31.86119, Speed: 36.5, Direction: 270, Altitude: 28}},
	},
	{
		file: "hikvision_mediastatus.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Notify, CmdType: CmdMediaStatus, SN: 1302, DeviceID: "34020000001310000001",
			MediaStatus: &MediaStatus{NotifyType: NotifyEndOfFile}},
	},
	{
		file: "hikvision_presetquery.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdPresetQuery, SN: 77, DeviceID: "34020000001310000002",
			Presets: &PresetList{Items: []Preset{{ID: 1, Name: "大门口"}, {ID: 2, Name: "停车场"}, {ID: 34}}}},
	},
	{
		file: "hikvision_configdownload.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdConfigDownload, SN: 78, DeviceID: "34020000001180000001",
			Result: ResultOK, Config: &Config{BasicParam: &BasicParam{Name: "NVR", DeviceID: "34020000001180000001",
				SIPServerID: "34020000002000000001", SIPServerIP: "192.168.1.10", SIPServerPort: 5060,
				DomainName: "3402000000", Expiration: 3600, HeartBeatInterval: 60, HeartBeatCount: 3}}},
	},
	{
		file: "hikvision_catalog_empty.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 12, DeviceID: "34020000001320000001",
			Catalog: &Catalog{}},
	},
	{
		file: "platform_ptz_control.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Control, CmdType: CmdDeviceControl, SN: 260813, DeviceID: "34020000001310000002",
			Control: &DeviceControl{PTZCmd: "A50F0108003F00FC", ControlPriority: 5}},
	},
	{
		file: "platform_recordinfo_query.xml", hint: GB2312, charset: GB2312,
		want: &Message{Kind: Query, CmdType: CmdRecordInfo, SN: 5521, DeviceID: "34020000001310000001",
			RecordQuery: &RecordQuery{StartTime: at("2024-03-18T00:00:00"), EndTime: at("2024-03-18T23:59:59"),
				Type: RecordAll}},
	},
	{
		// A GBK character (喆) and a four-byte GB18030 one (㐀) under a
		// GB2312 prolog.
		file: "gb18030_catalog.xml", hint: GB2312, charset: GB18030,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 40, DeviceID: "34020000001320000601",
			Catalog: &Catalog{SumNum: 1, Items: []CatalogItem{{
				DeviceID: "34020000001320000601", Name: "喆园路口㐀", Manufacturer: "TP-LINK", Status: StatusOn,
			}}}},
	},
	{
		// A 0xFF byte in the first name: U+FFFD, the rest intact.
		file: "hikvision_catalog_invalid_bytes.xml", hint: GB2312, charset: GB18030,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 17432, DeviceID: "34020000001180000001",
			Catalog: &Catalog{SumNum: 4, Items: []CatalogItem{
				{
					DeviceID: "34020000001310000001", Name: "大\uFFFD门口", Manufacturer: "Hikvision",
					Model: "DS-2CD3T46WDV3-I3", Owner: "Owner", CivilCode: "3402000000", Address: "大门口",
					ParentID: "34020000001180000001", RegisterWay: 1, IPAddress: "192.168.1.64", Port: 8000,
					Status: StatusOn, Longitude: 117.2272, Latitude: 31.8206, PTZType: 3,
				},
				{
					DeviceID: "34020000001310000002", Name: "一楼大厅", Manufacturer: "Hikvision",
					Model: "DS-2DE4425IW-DE", Owner: "Owner", CivilCode: "3402000000", Address: "一楼大厅",
					ParentID: "34020000001180000001", RegisterWay: 1, IPAddress: "192.168.1.65", Port: 8000,
					Status: StatusOff, PTZType: 1,
				},
			}}},
	},
	{
		// Cut inside the second item: the header and the first item are kept.
		file: "hikvision_catalog_truncated.xml", hint: GB2312, charset: GB2312, err: ErrTruncated,
		want: &Message{Kind: Response, CmdType: CmdCatalog, SN: 17431, DeviceID: "34020000001180000001",
			Catalog: &Catalog{SumNum: 4, Items: []CatalogItem{{
				DeviceID: "34020000001310000003", Name: "二楼电梯厅", Manufacturer: "Hikvision", Status: StatusOn,
			}}}},
	},
}

func readBody(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeBodies(t *testing.T) {
	dec := Decoder{Location: shanghai}
	for _, c := range bodyCases {
		t.Run(strings.TrimSuffix(c.file, ".xml")+"/"+c.hint.String(), func(t *testing.T) {
			m, cs, err := dec.Decode(readBody(t, c.file), c.hint)
			if c.err == nil && err != nil {
				t.Fatalf("error %v", err)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if cs != c.charset {
				t.Errorf("charset %v, want %v", cs, c.charset)
			}
			if c.want != nil && !reflect.DeepEqual(m, c.want) {
				t.Errorf("got\n%s\nwant\n%s", dump(m), dump(c.want))
			}
		})
	}
}

// TestBodyCasesCoverTestdata keeps every file of testdata/ in the table,
// and so among the fuzz seeds.
func TestBodyCasesCoverTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	for _, c := range bodyCases {
		inTable[c.file] = true
	}
	for _, f := range files {
		if !inTable[filepath.Base(f)] {
			t.Errorf("%s is not in bodyCases", f)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		body string
		err  error
		msg  bool // a partial Message is returned
	}{
		{"empty", "", ErrUnknownRoot, false},
		{"only prolog", `<?xml version="1.0" encoding="GB2312"?>`, ErrUnknownRoot, false},
		{"text", "REGISTER sip:x SIP/2.0", ErrUnknownRoot, false},
		{"other root", "<Envelope><Body/></Envelope>", ErrUnknownRoot, false},
		{"cut in prolog", `<?xml version="1.0" enc`, ErrUnknownRoot, false},
		{"cut in root tag", "<Notif", ErrUnknownRoot, false},
		{"cut in header", "<Notify><CmdType>Keepalive</CmdType><SN>1", ErrTruncated, true},
		{"syntax", "<Notify><CmdType>Keepalive</CmdType><SN>1</SN><<>>", ErrMalformed, true},
		{"too deep", "<Notify>" + strings.Repeat("<a>", maxDepth) + strings.Repeat("</a>", maxDepth) + "</Notify>", ErrMalformed, true},
		{"too large", strings.Repeat(" ", MaxBodySize+1), ErrTooLarge, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _, err := Decode([]byte(c.body), GB2312)
			if !errors.Is(err, c.err) {
				t.Fatalf("error %v, want %v", err, c.err)
			}
			if (m != nil) != c.msg {
				t.Fatalf("message %v, want one: %v", m, c.msg)
			}
		})
	}
}

func TestDecodeTolerance(t *testing.T) {
	for _, c := range []struct {
		name string
		body string
		want *Message
	}{
		{
			"unknown CmdType kept as sent",
			"<Notify><CmdType>Heartbeat</CmdType><SN>3</SN><DeviceID>1</DeviceID></Notify>",
			&Message{Kind: Notify, CmdType: "Heartbeat", SN: 3, DeviceID: "1"},
		},
		{
			"CmdType case and spaces",
			"<Notify><CmdType> KEEPALIVE </CmdType><SN>3</SN><DeviceID>1</DeviceID><Status>OK</Status></Notify>",
			&Message{Kind: Notify, CmdType: CmdKeepalive, SN: 3, DeviceID: "1", Keepalive: &Keepalive{Status: "OK"}},
		},
		{
			"unclosed inner elements closed by the root",
			"<Response><CmdType>DeviceInfo</CmdType><SN>5</SN><DeviceID>1</Response>",
			&Message{Kind: Response, CmdType: CmdDeviceInfo, SN: 5, DeviceID: "1", DeviceInfo: &DeviceInfo{}},
		},
		{
			"stray end tag ignored",
			"<Notify></Item><CmdType>MediaStatus</CmdType><SN>1</SN><NotifyType>121</NotifyType></Notify>",
			&Message{Kind: Notify, CmdType: CmdMediaStatus, SN: 1, MediaStatus: &MediaStatus{NotifyType: 121}},
		},
		{
			"second body after the root ignored",
			"<Notify><CmdType>Keepalive</CmdType><SN>1</SN></Notify><Notify><SN>2</SN></Notify>",
			&Message{Kind: Notify, CmdType: CmdKeepalive, SN: 1, Keepalive: &Keepalive{}},
		},
		{
			"control characters inside a name",
			"<Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceList><Item><Name>a\x01b\x00</Name></Item></DeviceList></Response>",
			&Message{Kind: Response, CmdType: CmdCatalog, SN: 1, Catalog: &Catalog{SumNum: 1,
				Items: []CatalogItem{{Name: "a\uFFFDb\uFFFD"}}}},
		},
		{
			"keepalive with faulty channels",
			"<Notify><CmdType>Keepalive</CmdType><SN>1</SN><Status>ERROR</Status><Info><DeviceID>a</DeviceID><DeviceID>b</DeviceID></Info></Notify>",
			&Message{Kind: Notify, CmdType: CmdKeepalive, SN: 1, Keepalive: &Keepalive{Status: "ERROR", Faults: []string{"a", "b"}}},
		},
		{
			"IFrameCmd of GB/T 28181-2022",
			"<Control><CmdType>DeviceControl</CmdType><SN>1</SN><IFrameCmd>Send</IFrameCmd></Control>",
			&Message{Kind: Control, CmdType: CmdDeviceControl, SN: 1, Control: &DeviceControl{IFameCmd: IFameCmdSend}},
		},
		{
			"alarm response carries only a result",
			"<Response><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>x</DeviceID><Result>OK</Result></Response>",
			&Message{Kind: Response, CmdType: CmdAlarm, SN: 1, DeviceID: "x", Result: ResultOK},
		},
		{
			"XML declaration version 1.1 and single quotes",
			"<?xml version='1.1' encoding='utf-8'?><Notify><CmdType>MediaStatus</CmdType><SN>1</SN><NotifyType>121</NotifyType></Notify>",
			&Message{Kind: Notify, CmdType: CmdMediaStatus, SN: 1, MediaStatus: &MediaStatus{NotifyType: 121}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _, err := Decode([]byte(c.body), GB2312)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, c.want) {
				t.Errorf("got\n%s\nwant\n%s", dump(m), dump(c.want))
			}
		})
	}
}

func TestDecodeTooManyItems(t *testing.T) {
	// Over 1 MiB of items, under MaxBodySize: rejected by the item bound
	// with the first MaxItems kept.
	var b strings.Builder
	b.WriteString("<Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>d</DeviceID><SumNum>20000</SumNum><DeviceList>")
	for b.Len() < 1<<20+1 {
		b.WriteString("<Item><DeviceID>34020000001310000001</DeviceID></Item>")
	}
	b.WriteString("</DeviceList></Response>")
	m, _, err := Decode([]byte(b.String()), GB2312)
	if !errors.Is(err, ErrTooManyItems) {
		t.Fatalf("error %v", err)
	}
	if m == nil || len(m.Catalog.Items) != MaxItems {
		t.Fatalf("message %v", m)
	}
}

func TestDecodeTooManyElements(t *testing.T) {
	body := "<Notify>" + strings.Repeat("<a/>", maxElements) + "</Notify>"
	m, _, err := Decode([]byte(body), GB2312)
	if !errors.Is(err, ErrMalformed) || m == nil {
		t.Fatalf("error %v, message %v", err, m)
	}
}
