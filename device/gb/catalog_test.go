package gb

import (
	"testing"

	"github.com/nvr/nvr/device"
	"github.com/nvr/nvr/sip/manscdp"
)

func TestChannelsFromCatalog(t *testing.T) {
	const (
		ipc      = "34020000001320000001"
		nvr      = "34020000001180000001"
		platform = "34020000002000000009"
		subNVR   = "34020000001180000002"
		cam1     = "34020000001310000001"
		cam2     = "34020000001310000002"
		bg       = "34020000002150000001"
		vo       = "34020000002160000001"
	)
	tests := []struct {
		name   string
		device string
		items  []manscdp.CatalogItem
		want   map[string]device.Channel // GBID → Kind, ParentID, Status, Name
	}{
		{
			name:   "an IPC lists itself as its only channel",
			device: ipc,
			items:  []manscdp.CatalogItem{{DeviceID: ipc, Name: "大门", Status: "ON", ParentID: ipc}},
			want:   map[string]device.Channel{ipc: {Kind: device.KindChannel, ParentID: ipc, Status: "ON", Name: "大门"}},
		},
		{
			name:   "an NVR above its cameras is a node",
			device: nvr,
			items: []manscdp.CatalogItem{
				{DeviceID: nvr, Name: "NVR"},
				{DeviceID: cam1, Name: "一", ParentID: nvr, Status: "OFF"},
				{DeviceID: cam2, ParentID: nvr, Status: "VLOST"},
			},
			want: map[string]device.Channel{
				nvr:  {Kind: device.KindDevice, Status: "ON", Name: "NVR"},
				cam1: {Kind: device.KindChannel, ParentID: nvr, Status: "OFF", Name: "一"},
				cam2: {Kind: device.KindChannel, ParentID: nvr, Status: "OFF", Name: cam2},
			},
		},
		{
			name:   "a platform's tree: civil code, business group, virtual organisation, sub-NVR",
			device: platform,
			items: []manscdp.CatalogItem{
				{DeviceID: "340200", Name: "市"},
				{DeviceID: bg, Name: "分组"},
				{DeviceID: vo, Name: "一号楼", BusinessGroupID: bg},
				{DeviceID: subNVR, Name: "下级NVR", Parental: 1, ParentID: "340200/" + vo},
				{DeviceID: cam1, Name: "一", ParentID: platform + "/" + vo},
				{DeviceID: ""},
			},
			want: map[string]device.Channel{
				"340200": {Kind: device.KindCivilCode, Status: "ON", Name: "市"},
				bg:       {Kind: device.KindBusinessGroup, Status: "ON", Name: "分组"},
				vo:       {Kind: device.KindVirtualOrg, ParentID: bg, Status: "ON", Name: "一号楼"},
				subNVR:   {Kind: device.KindDevice, ParentID: vo, Status: "ON", Name: "下级NVR"},
				cam1:     {Kind: device.KindChannel, ParentID: vo, Status: "ON", Name: "一"},
			},
		},
		{
			name:   "Parental 1 on a camera does not make it a node",
			device: nvr,
			items:  []manscdp.CatalogItem{{DeviceID: cam1, Parental: 1, Status: "junk"}},
			want:   map[string]device.Channel{cam1: {Kind: device.KindChannel, Status: "OFF", Name: cam1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := channelsFromCatalog(tt.device, tt.items)
			if len(got) != len(tt.want) {
				t.Fatalf("%d channels, want %d: %+v", len(got), len(tt.want), got)
			}
			for _, c := range got {
				w, ok := tt.want[c.GBID]
				if !ok {
					t.Errorf("unexpected channel %q", c.GBID)
					continue
				}
				if c.Kind != w.Kind || c.ParentID != w.ParentID || c.Status != w.Status || c.Name != w.Name {
					t.Errorf("%s: kind %q parent %q status %q name %q, want %q %q %q %q",
						c.GBID, c.Kind, c.ParentID, c.Status, c.Name, w.Kind, w.ParentID, w.Status, w.Name)
				}
			}
		})
	}
}

// FuzzChannelsFromCatalog feeds catalog items as devices may send them: every item with an ID
// becomes one channel with a known kind and status, whatever the IDs and parents say.
func FuzzChannelsFromCatalog(f *testing.F) {
	f.Add("34020000001320000001", "34020000001320000001", "34020000001320000001", "ON", 0)
	f.Add("34020000001180000001", "34020000001310000001", "34020000001180000001", "OFF", 1)
	f.Add("3402", "34020000002160000001", "a/b/", "VLOST", 1)
	f.Add("", " ", "/", "", -1)
	kinds := map[string]bool{device.KindChannel: true, device.KindDevice: true, device.KindCivilCode: true,
		device.KindBusinessGroup: true, device.KindVirtualOrg: true}
	f.Fuzz(func(t *testing.T, dev, id, parent, status string, parental int) {
		items := []manscdp.CatalogItem{
			{DeviceID: id, ParentID: parent, Status: status, Parental: parental},
			{DeviceID: parent, ParentID: id, BusinessGroupID: parent},
		}
		for _, c := range channelsFromCatalog(dev, items) {
			if c.GBID == "" || c.Name == "" || !kinds[c.Kind] || (c.Status != device.ChannelOn && c.Status != device.ChannelOff) {
				t.Fatalf("channel %+v from %+v", c, items)
			}
		}
	})
}
