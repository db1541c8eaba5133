package manscdp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

var names = []string{"大门口", "一楼大厅", "二楼走廊", "停车场入口", "地下车库", "收费站出口"}

// catalogParts returns the GB2312 bodies of a catalog of n channels sent
// perPart at a time, as a device sends them.
func catalogParts(tb testing.TB, deviceID string, sn int64, n, perPart int) [][]byte {
	tb.Helper()
	var parts [][]byte
	for first := 0; first < n; first += perPart {
		c := &Catalog{SumNum: n}
		for i := first; i < min(first+perPart, n); i++ {
			c.Items = append(c.Items, CatalogItem{
				DeviceID: fmt.Sprintf("3402000000131%07d", i),
				Name:     fmt.Sprintf("%s%d", names[i%len(names)], i),
				ParentID: deviceID, Status: StatusOn, Manufacturer: "Hikvision",
			})
		}
		b, err := Encode(&Message{Kind: Response, CmdType: CmdCatalog, SN: sn, DeviceID: deviceID, Catalog: c}, GB2312)
		if err != nil {
			tb.Fatal(err)
		}
		parts = append(parts, b)
	}
	return parts
}

func TestAssembleCatalog500(t *testing.T) {
	const device = "34020000001180000001"
	parts := catalogParts(t, device, 41, 500, 10)
	if len(parts) != 50 {
		t.Fatalf("%d parts", len(parts))
	}
	// Two pairs swapped, one part sent twice.
	parts[10], parts[11] = parts[11], parts[10]
	parts[30], parts[31] = parts[31], parts[30]
	parts = append(parts[:21], parts[20:]...)

	var a Assembler
	key := Key{DeviceID: device, CmdType: CmdCatalog, SN: 41}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type waited struct {
		res Assembled
		err error
	}
	got := make(chan waited, 1)
	go func() {
		res, err := a.Wait(ctx, key)
		got <- waited{res, err}
	}()

	completed := 0
	for i, b := range parts {
		m, _, err := Decode(b, GB2312)
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if a.Add(m) {
			completed++
			if i != len(parts)-1 {
				t.Errorf("complete at part %d of %d", i, len(parts))
			}
		}
	}
	if completed != 1 {
		t.Errorf("completed %d times", completed)
	}
	w := <-got
	if w.err != nil {
		t.Fatal(w.err)
	}
	res := w.res
	if !res.Complete || res.Missing != 0 || res.SumNum != 500 || len(res.Catalog) != 500 || res.Parts != 51 {
		t.Fatalf("complete %v missing %d sum %d items %d parts %d", res.Complete, res.Missing, res.SumNum, len(res.Catalog), res.Parts)
	}
	seen := map[string]bool{}
	for _, it := range res.Catalog {
		if seen[it.DeviceID] {
			t.Fatalf("%s twice", it.DeviceID)
		}
		seen[it.DeviceID] = true
		var i int
		if _, err := fmt.Sscanf(it.DeviceID, "3402000000131%07d", &i); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%s%d", names[i%len(names)], i); it.Name != want {
			t.Fatalf("name %q, want %q", it.Name, want)
		}
	}
	if a.Pending() != 0 {
		t.Errorf("%d pending after Wait", a.Pending())
	}
}

func catalogPart(device string, sn int64, sum int, ids ...string) *Message {
	c := &Catalog{SumNum: sum}
	for _, id := range ids {
		c.Items = append(c.Items, CatalogItem{DeviceID: id})
	}
	return &Message{Kind: Response, CmdType: CmdCatalog, SN: sn, DeviceID: device, Catalog: c}
}

func TestAssembleTimeoutKeepsParts(t *testing.T) {
	var a Assembler
	a.Add(catalogPart("d", 1, 5, "a", "b"))
	a.Add(catalogPart("d", 1, 5, "b", "c"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res, err := a.Wait(ctx, Key{"d", CmdCatalog, 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Missing != 2 || len(res.Catalog) != 3 || res.Parts != 2 {
		t.Fatalf("%+v", res)
	}
}

func TestAssembleNoResponse(t *testing.T) {
	var a Assembler
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := a.Wait(ctx, Key{"d", CmdCatalog, 1})
	if !errors.Is(err, ErrNoResponse) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v", err)
	}
	if a.Pending() != 0 {
		t.Errorf("%d pending", a.Pending())
	}
}

func TestAssembleBeforeWait(t *testing.T) {
	var a Assembler
	if !a.Add(catalogPart("d", 7, 0)) {
		t.Fatal("an empty catalog is complete")
	}
	if a.Add(catalogPart("d", 7, 0)) {
		t.Fatal("a late duplicate completed again")
	}
	res, err := a.Wait(context.Background(), Key{"d", CmdCatalog, 7})
	if err != nil || !res.Complete || len(res.Catalog) != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestAssembleRecords(t *testing.T) {
	var a Assembler
	rec := func(start string, path string) RecordItem {
		s := at(start)
		return RecordItem{DeviceID: "ch", StartTime: s, EndTime: s.Add(time.Hour), FilePath: path}
	}
	part := func(items ...RecordItem) *Message {
		return &Message{Kind: Response, CmdType: CmdRecordInfo, SN: 3, DeviceID: "ch",
			RecordInfo: &RecordInfo{SumNum: 3, Items: items}}
	}
	a.Add(part(rec("2024-03-18T10:00:00", "c"), rec("2024-03-18T08:00:00", "a")))
	a.Add(part(rec("2024-03-18T08:00:00", "a")))                                        // duplicate
	if !a.Add(part(rec("2024-03-18T08:00:00", "b"), rec("2024-03-18T10:00:00", "c"))) { // same times, other file
		t.Fatal("not complete")
	}
	res, err := a.Wait(context.Background(), Key{"ch", CmdRecordInfo, 3})
	if err != nil || !res.Complete || len(res.Records) != 3 {
		t.Fatalf("%+v %v", res, err)
	}
	if !res.Records[0].StartTime.Equal(at("2024-03-18T08:00:00")) || res.Records[2].FilePath != "c" {
		t.Errorf("not sorted: %+v", res.Records)
	}
}

func TestAssembleIgnoresOthers(t *testing.T) {
	var a Assembler
	if a.Add(nil) || a.Add(&Message{Kind: Notify, CmdType: CmdKeepalive, Keepalive: &Keepalive{}}) {
		t.Fatal("added a keepalive")
	}
	if a.Pending() != 0 {
		t.Fatal("pending")
	}
}

func TestAssembleBounds(t *testing.T) {
	a := Assembler{MaxPending: 2, MaxAssemblyItems: 3}
	// A waiter on the oldest response returns when it is dropped.
	got := make(chan Assembled, 1)
	a.Add(catalogPart("d", 1, 10, "x"))
	go func() {
		res, _ := a.Wait(context.Background(), Key{"d", CmdCatalog, 1})
		got <- res
	}()
	for a.waiting(Key{"d", CmdCatalog, 1}) == 0 {
		time.Sleep(time.Millisecond)
	}
	a.Add(catalogPart("d", 2, 10, "x"))
	a.Add(catalogPart("d", 3, 10, "x"))
	select {
	case res := <-got:
		if res.Complete || len(res.Catalog) != 1 {
			t.Errorf("%+v", res)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not released")
	}
	if n := a.Pending(); n != 2 {
		t.Errorf("%d pending", n)
	}
	// At most MaxAssemblyItems items, and then the response is complete.
	if !a.Add(catalogPart("d", 3, 10, "a", "b", "c", "d")) {
		t.Error("not complete at the item bound")
	}
	res, _ := a.Wait(context.Background(), Key{"d", CmdCatalog, 3})
	if len(res.Catalog) != 3 {
		t.Errorf("%d items", len(res.Catalog))
	}
}

func TestAssembleTTL(t *testing.T) {
	now := time.Unix(1e9, 0)
	a := Assembler{TTL: time.Minute}
	a.now = func() time.Time { return now }
	a.Add(catalogPart("d", 1, 10, "x"))
	now = now.Add(30 * time.Second)
	a.Add(catalogPart("d", 2, 10, "x"))
	now = now.Add(45 * time.Second)
	a.Add(catalogPart("d", 3, 10, "x"))
	if n := a.Pending(); n != 2 {
		t.Fatalf("%d pending, want the first expired", n)
	}
}

func TestAssembleConcurrent(t *testing.T) {
	var a Assembler
	var wg sync.WaitGroup
	for d := range 50 {
		dev := fmt.Sprintf("dev%d", d)
		wg.Add(2)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := a.Wait(ctx, Key{dev, CmdCatalog, 9})
			if err != nil || !res.Complete || len(res.Catalog) != 40 {
				t.Errorf("%s: %v complete %v items %d", dev, err, res.Complete, len(res.Catalog))
			}
		}()
		go func() {
			defer wg.Done()
			for p := range 10 {
				ids := make([]string, 4)
				for i := range ids {
					ids[i] = fmt.Sprintf("%d", p*4+i)
				}
				a.Add(catalogPart(dev, 9, 40, ids...))
			}
		}()
	}
	wg.Wait()
	if n := a.Pending(); n != 0 {
		t.Errorf("%d pending", n)
	}
}

// waiting returns the number of waiters on key, for tests.
func (a *Assembler) waiting(key Key) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.pending[key]; ok {
		return s.waiters
	}
	return 0
}
