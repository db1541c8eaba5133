package gbsim

import (
	"slices"
	"strings"
	"testing"
)

func TestPartOrder(t *testing.T) {
	cases := []struct {
		name string
		n    int
		q    Quirks
		want []int
	}{
		{"plain", 4, Quirks{}, []int{0, 1, 2, 3}},
		{"one part", 1, Quirks{}, []int{0}},
		{"swap", 5, Quirks{SwapParts: [][2]int{{2, 4}}}, []int{0, 3, 2, 1, 4}},
		{"two swaps", 5, Quirks{SwapParts: [][2]int{{1, 2}, {4, 5}}}, []int{1, 0, 2, 4, 3}},
		{"duplicate", 3, Quirks{DuplicatePart: 2}, []int{0, 1, 1, 2}},
		{"drop", 4, Quirks{DropParts: []int{1, 3}}, []int{1, 3}},
		{"all at once", 4, Quirks{SwapParts: [][2]int{{1, 4}}, DuplicatePart: 4, DropParts: []int{2}}, []int{3, 3, 2, 0}},
		{"out of range", 2, Quirks{SwapParts: [][2]int{{0, 9}}, DuplicatePart: 7, DropParts: []int{5}}, []int{0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := partOrder(tc.n, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("partOrder(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

func TestEncodeCharsets(t *testing.T) {
	gbName := "\xCD\xA8\xB5\xC0\x31\x20\xB4\xF3\xC3\xC5" // 通道1 大门 in GB2312
	cases := []struct {
		name     string
		q        Quirks
		prolog   string
		contains string
	}{
		{"gb2312", Quirks{}, `encoding="GB2312"`, gbName},
		{"utf8", Quirks{UTF8: true}, `encoding="UTF-8"`, "通道1 大门"},
		{"utf8 under a gb2312 prolog", Quirks{UTF8: true, WrongProlog: true}, `encoding="GB2312"`, "通道1 大门"},
		{"gb2312 under a utf8 prolog", Quirks{WrongProlog: true}, `encoding="UTF-8"`, gbName},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &Device{quirks: tc.q}
			x := newBody("Response", "Catalog", 1, "34020000001320000001")
			x.el("Name", ChannelName(1))
			x.el("Address", "<&>")
			b := string(d.encode(x))
			if !strings.HasPrefix(b, `<?xml version="1.0" `+tc.prolog+"?>\r\n<Response>\r\n") ||
				!strings.Contains(b, "<Name>"+tc.contains+"</Name>") || !strings.Contains(b, "<Address>&lt;&amp;&gt;</Address>") ||
				!strings.HasSuffix(b, "</Response>\r\n") {
				t.Errorf("body:\n%q", b)
			}
		})
	}
}

// Devices with consecutive serials number their channels without overlap.
func TestChannelIDs(t *testing.T) {
	seen := map[string]string{}
	for serial := 1; serial <= 3; serial++ {
		d := &Device{cfg: Config{DeviceID: MakeID(118, serial), Channels: 4}}
		for i := 1; i <= 4; i++ {
			id := d.ChannelID(i)
			if len(id) != 20 || id[10:13] != "131" {
				t.Fatalf("channel ID %s", id)
			}
			if other, dup := seen[id]; dup {
				t.Fatalf("%s is a channel of %s and %s", id, other, d.cfg.DeviceID)
			}
			seen[id] = d.cfg.DeviceID
		}
	}
	d := &Device{cfg: Config{DeviceID: MakeID(132, 1), Channels: 1}, quirks: Quirks{WrongTypeDigits: true}}
	if got := d.ChannelID(1); got != "34020000000000000001" {
		t.Errorf("wrong type digits: %s", got)
	}
}
