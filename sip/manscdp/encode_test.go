package manscdp

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestEncodeRoundTrip encodes every decoded body of the table in each
// charset and decodes it again.
func TestEncodeRoundTrip(t *testing.T) {
	dec := Decoder{Location: shanghai}
	for _, c := range bodyCases {
		if c.want == nil || c.err != nil {
			continue
		}
		want := withoutSubseconds(c.want)
		for _, cs := range []Charset{GB2312, GB18030, UTF8} {
			t.Run(strings.TrimSuffix(c.file, ".xml")+"/"+cs.String(), func(t *testing.T) {
				b, err := Encode(want, cs)
				if err != nil {
					t.Fatal(err)
				}
				prolog := `<?xml version="1.0" encoding="` + cs.String() + `"?>`
				if !bytes.HasPrefix(b, []byte(prolog)) {
					t.Fatalf("prolog: %q", b[:min(len(b), 60)])
				}
				m, got, err := dec.Decode(b, cs)
				if err != nil {
					t.Fatalf("%v in\n%s", err, b)
				}
				if got != cs && !(got == GB2312 && cs == GB18030) && !isASCII(b) {
					t.Errorf("read back as %v", got)
				}
				if !reflect.DeepEqual(m, want) {
					t.Errorf("got\n%s\nwant\n%s\nbody\n%s", dump(m), dump(want), b)
				}
			})
		}
	}
}

// withoutSubseconds returns a copy of m whose DeviceTime has no fraction:
// MANSCDP times are written to the second.
func withoutSubseconds(m *Message) *Message {
	if m.DeviceStatus == nil {
		return m
	}
	c := *m
	s := *m.DeviceStatus
	s.DeviceTime = s.DeviceTime.Truncate(time.Second)
	c.DeviceStatus = &s
	return &c
}

func TestEncodeGB2312Bytes(t *testing.T) {
	m := &Message{Kind: Response, CmdType: CmdCatalog, SN: 1, DeviceID: "34020000001320000001",
		Catalog: &Catalog{SumNum: 1, Items: []CatalogItem{{DeviceID: "34020000001320000001", Name: "大门口喆㐀"}}}}
	b, err := Encode(m, GB2312)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := simplifiedchinese.GBK.NewEncoder().String("大门口")
	// 喆 is GBK only and 㐀 GB18030 only: a strict GB2312 reader gets
	// character references.
	if want := "<Name>" + gb + "&#21894;&#13312;</Name>"; !bytes.Contains(b, []byte(want)) {
		t.Errorf("body\n%q\nlacks %q", b, want)
	}
	if !bytes.Contains(b, []byte(`<DeviceList Num="1">`)) {
		t.Errorf("no Num attribute:\n%s", b)
	}
	got, cs, err := Decode(b, GB2312)
	if err != nil || cs != GB2312 || got.Catalog.Items[0].Name != "大门口喆㐀" {
		t.Fatalf("read back %v %v %+v", err, cs, got)
	}

	b, err = Encode(m, GB18030)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("&#")) {
		t.Errorf("GB18030 body uses character references:\n%s", b)
	}
}

func TestEncodeBuilders(t *testing.T) {
	start := time.Date(2024, 3, 18, 0, 0, 0, 0, shanghai)
	for _, c := range []struct {
		name string
		msg  *Message
		want string
	}{
		{"catalog query", NewQuery(CmdCatalog, 1, "34020000001180000001"), `
<Query>
  <CmdType>Catalog</CmdType>
  <SN>1</SN>
  <DeviceID>34020000001180000001</DeviceID>
</Query>`},
		{"ptz", NewPTZControl(2, "34020000001310000001", "A50F0100000000B5"), `
<Control>
  <CmdType>DeviceControl</CmdType>
  <SN>2</SN>
  <DeviceID>34020000001310000001</DeviceID>
  <PTZCmd>A50F0100000000B5</PTZCmd>
  <Info>
    <ControlPriority>5</ControlPriority>
  </Info>
</Control>`},
		{"record info query", NewRecordInfoQuery(3, "34020000001310000001", RecordQuery{
			StartTime: start, EndTime: start.Add(24*time.Hour - time.Second)}), `
<Query>
  <CmdType>RecordInfo</CmdType>
  <SN>3</SN>
  <DeviceID>34020000001310000001</DeviceID>
  <StartTime>2024-03-18T00:00:00</StartTime>
  <EndTime>2024-03-18T23:59:59</EndTime>
  <Secrecy>0</Secrecy>
  <Type>all</Type>
</Query>`},
		{"config download", NewConfigDownloadQuery(4, "34020000001180000001", ConfigTypeBasicParam), `
<Query>
  <CmdType>ConfigDownload</CmdType>
  <SN>4</SN>
  <DeviceID>34020000001180000001</DeviceID>
  <ConfigType>BasicParam</ConfigType>
</Query>`},
		{"teleboot", NewTeleBoot(5, "34020000001180000001"), `
<Control>
  <CmdType>DeviceControl</CmdType>
  <SN>5</SN>
  <DeviceID>34020000001180000001</DeviceID>
  <TeleBoot>Boot</TeleBoot>
</Control>`},
		{"record", NewRecordControl(6, "34020000001310000001", true), `
<Control>
  <CmdType>DeviceControl</CmdType>
  <SN>6</SN>
  <DeviceID>34020000001310000001</DeviceID>
  <RecordCmd>Record</RecordCmd>
</Control>`},
		{"stop record", NewRecordControl(6, "34020000001310000001", false), `<RecordCmd>StopRecord</RecordCmd>`},
		{"guard", NewGuardControl(7, "34020000001180000001", true), `<GuardCmd>SetGuard</GuardCmd>`},
		{"unguard", NewGuardControl(7, "34020000001180000001", false), `<GuardCmd>ResetGuard</GuardCmd>`},
		{"iframe", NewIFrameControl(8, "34020000001310000001"), `<IFameCmd>Send</IFameCmd>`},
		{"alarm response", AlarmResponse(&Message{SN: 1291, DeviceID: "34020000001310000002"}), `
<Response>
  <CmdType>Alarm</CmdType>
  <SN>1291</SN>
  <DeviceID>34020000001310000002</DeviceID>
  <Result>OK</Result>
</Response>`},
		{"preset query", NewQuery(CmdPresetQuery, 9, "34020000001310000002"), `<CmdType>PresetQuery</CmdType>`},
		{"keepalive", NewKeepalive(10, "34020000001320000001"), `
<Notify>
  <CmdType>Keepalive</CmdType>
  <SN>10</SN>
  <DeviceID>34020000001320000001</DeviceID>
  <Status>OK</Status>
</Notify>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := Encode(c.msg, GB2312)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), strings.TrimPrefix(c.want, "\n")) {
				t.Errorf("got\n%s\nwant\n%s", b, c.want)
			}
			m, _, err := Decoder{Location: shanghai}.Decode(b, GB2312)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, c.msg) {
				t.Errorf("read back\n%s\nwant\n%s", dump(m), dump(c.msg))
			}
		})
	}
}

func TestEncodeWithoutKind(t *testing.T) {
	if _, err := Encode(&Message{CmdType: CmdCatalog}, UTF8); err == nil {
		t.Fatal("no error for a message without a root")
	}
}
