package manscdp

import (
	"runtime"
	"strings"
	"testing"
)

// TestDecodeAllocationBound decodes the worst bodies within MaxBodySize and
// checks what Decode allocates stays bounded.
func TestDecodeAllocationBound(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates tens of megabytes")
	}
	fill := func(head, unit, tail string) []byte {
		n := (MaxBodySize - len(head) - len(tail)) / len(unit)
		return []byte(head + strings.Repeat(unit, n) + tail)
	}
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"empty elements", fill("<Notify>", "<a/>", "</Notify>")},
		{"tiny items", fill("<Response><CmdType>Catalog</CmdType><DeviceList>", "<Item><Name>x</Name></Item>", "</DeviceList></Response>")},
		{"one long text", fill("<Notify><CmdType>Alarm</CmdType><AlarmDescription>", "\xb4\xf3", "</AlarmDescription></Notify>")},
		{"entities", fill("<Notify><CmdType>Alarm</CmdType><AlarmDescription>", "&amp;", "</AlarmDescription></Notify>")},
		{"invalid bytes", fill("<Notify><CmdType>Alarm</CmdType><AlarmDescription>", "\xff", "</AlarmDescription></Notify>")},
		{"deep", fill("<Notify>", "<a>", "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := Decode(c.body, GB2312)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes: %.1f MiB allocated, %v", len(c.body), float64(alloc)/(1<<20), err)
			if alloc > maxDecodeAlloc {
				t.Errorf("%.1f MiB allocated", float64(alloc)/(1<<20))
			}
		})
	}
}

// maxDecodeAlloc is what TestDecodeAllocationBound allows one Decode of a
// MaxBodySize body to allocate in total, most of it short-lived garbage of
// encoding/xml's tokenizer and of charset conversion (measured: up to
// ~40 MiB, for 2 MiB of invalid bytes).
const maxDecodeAlloc = 64 << 20
