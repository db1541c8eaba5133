package gb

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nvr/nvr/sip"
	"github.com/nvr/nvr/sip/manscdp"
)

type nopEvents struct{}

func (nopEvents) Keepalive(context.Context, string, time.Time)                            {}
func (nopEvents) CatalogEvent(context.Context, string, []manscdp.CatalogItem)             {}
func (nopEvents) Alarm(context.Context, string, string, *manscdp.Alarm)                   {}
func (nopEvents) MobilePosition(context.Context, string, string, *manscdp.MobilePosition) {}
func (nopEvents) MediaStatus(context.Context, string, string, string)                     {}

func benchClient(b *testing.B) *Client {
	c := &Client{Events: nopEvents{}}
	c.send = func(context.Context, string, []byte) error { return nil }
	c.Initialize()
	b.Cleanup(c.Close)
	return c
}

// A keepalive from each of 5,000 devices every 60 s is the steady load.
func BenchmarkHandleKeepalive(b *testing.B) {
	body, err := os.ReadFile("../manscdp/testdata/hikvision_keepalive.xml")
	if err != nil {
		b.Fatal(err)
	}
	c := benchClient(b)
	m := sip.Message{Method: "MESSAGE", DeviceID: "34020000001320000001", ContentType: sip.ContentTypeMANSCDP,
		Body: body, Registered: true}
	b.ReportAllocs()
	for b.Loop() {
		c.HandleMessage(context.Background(), m)
	}
}

// One part of a catalog answer (10 GB2312 items) into the assembler.
func BenchmarkHandleCatalogPart(b *testing.B) {
	const id = "34020000001180000001"
	c := benchClient(b)
	var items []manscdp.CatalogItem
	for i := range 10 {
		items = append(items, manscdp.CatalogItem{DeviceID: fmt.Sprintf("340200000013100%05d", i), Name: "通道 大门",
			Manufacturer: "Hikvision", Status: manscdp.StatusOn, ParentID: id})
	}
	body, err := manscdp.Encode(&manscdp.Message{Kind: manscdp.Response, CmdType: manscdp.CmdCatalog, SN: 1, DeviceID: id,
		Catalog: &manscdp.Catalog{SumNum: 1 << 30, Items: items}}, manscdp.GB2312)
	if err != nil {
		b.Fatal(err)
	}
	c.addWaiter(manscdp.Key{DeviceID: id, CmdType: manscdp.CmdCatalog, SN: 1}, &waiter{multi: true})
	m := sip.Message{Method: "MESSAGE", DeviceID: id, ContentType: sip.ContentTypeMANSCDP, Body: body, Registered: true}
	b.ReportAllocs()
	for b.Loop() {
		c.HandleMessage(context.Background(), m)
	}
}
