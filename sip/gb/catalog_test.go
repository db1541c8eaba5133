package gb_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/sip/gb"
	"github.com/nvr/nvr/sip/gbsim"
	"github.com/nvr/nvr/sip/manscdp"
)

// A 500-channel catalog in 50 MESSAGEs, one of them sent twice and two
// swapped, arrives complete with the GB2312 Chinese names intact; and so
// it does in UTF-8, and in UTF-8 under a prolog that says GB2312.
func TestCatalogAssembled(t *testing.T) {
	cases := []struct {
		name    string
		tr      string
		quirks  gbsim.Quirks
		charset manscdp.Charset
	}{
		{"gb2312/udp", "udp", gbsim.Quirks{}, manscdp.GB2312},
		{"gb2312/tcp", "tcp", gbsim.Quirks{}, manscdp.GB2312},
		{"utf8", "udp", gbsim.Quirks{UTF8: true}, manscdp.UTF8},
		{"utf8 under a gb2312 prolog", "udp", gbsim.Quirks{UTF8: true, WrongProlog: true}, manscdp.UTF8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			q := tc.quirks
			q.DuplicatePart = 7
			q.SwapParts = [][2]int{{20, 21}}
			d := e.device(t, func(c *gbsim.Config) {
				c.DeviceID = gbsim.MakeID(118, 1)
				c.Transport = tc.tr
				c.Channels = 500
				c.PerMessage = 10
				c.Quirks = q
			})
			start := time.Now()
			items, complete, err := e.client.Catalog(ctxTimeout(t, 10*time.Second), d.ID())
			if err != nil {
				t.Fatal(err)
			}
			if !complete || len(items) != 500 {
				t.Fatalf("complete=%v, %d items", complete, len(items))
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %s", el)
			}
			want := d.Catalog()
			got := map[string]manscdp.CatalogItem{}
			for _, it := range items {
				got[it.DeviceID] = it
			}
			for _, w := range want {
				g, ok := got[w.DeviceID]
				if !ok {
					t.Fatalf("channel %s missing", w.DeviceID)
				}
				if g.Name != w.Name || g.Status != manscdp.StatusOn || g.ParentID != d.ID() || g.PTZType != w.PTZType ||
					g.Manufacturer != "gbsim" || g.Address != w.Address || g.Longitude != w.Longitude {
					t.Fatalf("item %+v, want %+v", g, w)
				}
			}
			if got[d.ChannelID(1)].Name != "通道1 大门" || got[d.ChannelID(2)].Name != "通道2 停车场" {
				t.Errorf("names: %q %q", got[d.ChannelID(1)].Name, got[d.ChannelID(2)].Name)
			}
			// 51 parts arrived: the duplicate was sent. (The order in which
			// the platform handles parts is not the order they were sent in:
			// each request has its own goroutine. TestPartOrder checks the
			// simulator's.)
			if n := bytes.Count(e.rawBodies(), []byte("<CmdType>Catalog</CmdType>")); n != 51 {
				t.Errorf("%d parts received, want 51", n)
			}
			if cs := e.client.Charset(d.ID()); cs != tc.charset {
				t.Errorf("charset remembered = %v, want %v", cs, tc.charset)
			}
			// The bodies were on the wire in the charset the case names.
			name := []byte("通道1 大门")
			if tc.charset == manscdp.GB2312 {
				name = []byte{0xCD, 0xA8, 0xB5, 0xC0, '1', ' ', 0xB4, 0xF3, 0xC3, 0xC5}
			}
			if !bytes.Contains(e.rawBodies(), name) {
				t.Errorf("no body carries the name in %v", tc.charset)
			}
		})
	}
}

// A part that never arrives: Catalog returns the rest, complete=false,
// once CatalogTimeout has passed; slow parts make no difference to the
// result.
func TestCatalogMissingPart(t *testing.T) {
	e := newEnv(t, func(c *gb.Client) { c.CatalogTimeout = 800 * time.Millisecond })
	d := e.device(t, func(c *gbsim.Config) {
		c.Channels = 50
		c.PerMessage = 5
		c.Quirks.DropParts = []int{4}
		c.Quirks.PartDelay = 5 * time.Millisecond
	})
	start := time.Now()
	items, complete, err := e.client.Catalog(ctxTimeout(t, 5*time.Second), d.ID())
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if complete || len(items) != 45 {
		t.Fatalf("complete=%v, %d items, want 45 of 50", complete, len(items))
	}
	for _, it := range items {
		if it.DeviceID == d.ChannelID(16) {
			t.Error("an item of the dropped part arrived")
		}
	}
	if el < 750*time.Millisecond || el > 2*time.Second {
		t.Errorf("returned after %s with an 800 ms catalog timeout", el)
	}
	if !e.log.contains("answer incomplete") {
		t.Error("incomplete catalog not logged")
	}
	// The device is fine afterwards.
	d.SetQuirks(gbsim.Quirks{})
	if _, complete, err := e.client.Catalog(ctxTimeout(t, 5*time.Second), d.ID()); err != nil || !complete {
		t.Errorf("second catalog: complete=%v err=%v", complete, err)
	}
}

// A tree: civil area, business group and virtual organisation nodes come
// with the channels, which name them as parents; wrong type digits are
// passed through.
func TestCatalogTree(t *testing.T) {
	e := newEnv(t, nil)
	d := e.device(t, func(c *gbsim.Config) {
		c.Channels = 3
		c.Tree = true
		c.Quirks.WrongTypeDigits = true
	})
	items, complete, err := e.client.Catalog(ctxTimeout(t, 5*time.Second), d.ID())
	if err != nil || !complete || len(items) != 6 {
		t.Fatalf("%d items, complete=%v, err=%v", len(items), complete, err)
	}
	byID := map[string]manscdp.CatalogItem{}
	for _, it := range items {
		byID[it.DeviceID] = it
	}
	ch := byID[d.ChannelID(1)]
	vo, bg := byID[ch.ParentID], byID[ch.BusinessGroupID]
	if ch.DeviceID[10:13] != "000" || vo.DeviceID[10:13] != "216" || bg.DeviceID[10:13] != "215" ||
		vo.ParentID != bg.DeviceID || vo.Name != "一号楼" || byID["34020000"].Name != "芜湖市" {
		t.Errorf("tree: channel %+v\nvo %+v\nbg %+v", ch, vo, bg)
	}
}

func TestRecordInfo(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	e := newEnv(t, func(c *gb.Client) { c.Location = loc })
	d := e.device(t, func(c *gbsim.Config) {
		c.Channels = 2
		c.PerMessage = 4
		c.RecordSpan = 10 * time.Minute
		c.Location = loc
		c.Quirks.SwapParts = [][2]int{{1, 3}}
		c.Quirks.DuplicatePart = 2
	})
	start := time.Date(2024, 3, 18, 8, 0, 0, 0, loc)
	end := start.Add(2*time.Hour + 5*time.Minute)
	recs, complete, err := e.client.RecordInfo(ctxTimeout(t, 5*time.Second), d.ID(), d.ChannelID(2), start, end)
	if err != nil {
		t.Fatal(err)
	}
	if !complete || len(recs) != 13 {
		t.Fatalf("complete=%v, %d records, want 13", complete, len(recs))
	}
	for i, r := range recs {
		ws := start.Add(time.Duration(i) * 10 * time.Minute)
		we := ws.Add(10 * time.Minute)
		if we.After(end) {
			we = end
		}
		if !r.StartTime.Equal(ws) || !r.EndTime.Equal(we) || r.DeviceID != d.ChannelID(2) ||
			r.Name != "通道2 停车场" || r.Type != "time" || !strings.HasPrefix(r.FilePath, "/record/") {
			t.Fatalf("record %d = %+v, want %s-%s", i, r, ws, we)
		}
	}
	// Nothing recorded for a channel the device does not have.
	recs, complete, err = e.client.RecordInfo(ctxTimeout(t, 5*time.Second), d.ID(), gbsim.MakeID(131, 999), start, end)
	if err != nil || !complete || len(recs) != 0 {
		t.Errorf("unknown channel: %d records, complete=%v, err=%v", len(recs), complete, err)
	}
}
