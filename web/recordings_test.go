package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
)

func TestParseAndFormatAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		text string
		bad  bool
	}{
		{``, 0, "0", false},
		{`null`, 0, "0", false},
		{`0`, 0, "0", false},
		{`"0"`, 0, "0", false},
		{`90`, 90 * time.Second, "1m30s", false},
		{`"3600"`, time.Hour, "1h", false},
		{`"30d"`, 30 * 24 * time.Hour, "30d", false},
		{`"720h"`, 30 * 24 * time.Hour, "30d", false},
		{`"1h30m"`, 90 * time.Minute, "1h30m", false},
		{`"25h"`, 25 * time.Hour, "25h", false},
		{`"3s"`, 3 * time.Second, "3s", false},
		{`"1500ms"`, time.Second, "1s", false}, // stores keep whole seconds
		{`"-1h"`, 0, "", true},
		{`"500ms"`, 0, "", true},
		{`"forever"`, 0, "", true},
		{`"d"`, 0, "", true},
		{`true`, 0, "", true},
		{`"99999999d"`, 0, "", true},
	} {
		got, err := parseAge(json.RawMessage(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("parseAge(%s) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseAge(%s) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		if s := formatAge(got); s != tc.text {
			t.Errorf("formatAge(%v) = %q, want %q", got, s, tc.text)
		}
		// What formatAge writes reads back.
		if back, err := parseAge(json.RawMessage(`"` + formatAge(got) + `"`)); err != nil || back != got {
			t.Errorf("round trip of %v: %v, %v", got, back, err)
		}
	}
}

func TestMergeRanges(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	rec := func(s, e int) device.Recording { return device.Recording{Start: at(s), End: at(e)} }
	recs := []device.Recording{
		rec(0, 2000), rec(2000, 4000), // abutting
		rec(5000, 7000),   // 1 s apart: joined
		rec(9000, 11000),  // 2 s apart: a gap
		rec(11000, 11000), // empty
		rec(12400, 13000), // 1.4 s: joined
	}
	got := mergeRanges(recs, at(-1000), at(100000))
	want := []timeRangeDTO{{at(0), at(7000)}, {at(9000), at(13000)}}
	if len(got) != len(want) {
		t.Fatalf("ranges %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("range %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Clipped to the request.
	got = mergeRanges(recs, at(1000), at(10000))
	if len(got) != 2 || !got[0].Start.Equal(at(1000)) || !got[1].End.Equal(at(10000)) {
		t.Errorf("clipped ranges %+v", got)
	}
	if got := mergeRanges(nil, at(0), at(1)); got == nil || len(got) != 0 {
		t.Errorf("no recordings: %#v, want an empty list (JSON [])", got)
	}
}

// monthOfSegments is a month of one-minute segments.
func monthOfSegments() []device.Recording {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]device.Recording, 43200)
	for i := range out {
		s := t0.Add(time.Duration(i) * time.Minute)
		out[i] = device.Recording{ID: int64(i + 1), Start: s, End: s.Add(time.Minute - time.Duration(i%3)*time.Millisecond), Bytes: 15<<20 + int64(i)}
	}
	return out
}

func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 50_000_000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 7_000_000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123_456_000, time.UTC), // not whole milliseconds
		time.Date(999, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
	} {
		want, _ := json.Marshal(tm)
		if got := `"` + string(appendTime(nil, tm)) + `"`; got != string(want) {
			t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestAppendRecordingList(t *testing.T) {
	recs := monthOfSegments()[:50]
	recs[3].Start = recs[3].Start.Add(1500 * time.Microsecond) // sub-millisecond digits too
	ranges := mergeRanges(recs, recs[0].Start.Add(-time.Hour), recs[49].End)
	dto := recordingListDTO{Ranges: ranges, Segments: make([]segmentDTO, len(recs))}
	for i, r := range recs {
		dto.Segments[i] = segmentDTO{ID: r.ID, Start: r.Start, End: r.End, Bytes: r.Bytes}
	}
	want, err := json.Marshal(dto)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendRecordingList(nil, ranges, recs); string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(appendRecordingList(nil, []timeRangeDTO{}, nil)); got != `{"ranges":[],"segments":[]}` {
		t.Errorf("empty listing %s", got)
	}
}

// BenchmarkAppendRecordingList writes the JSON of a month of one channel.
func BenchmarkAppendRecordingList(b *testing.B) {
	recs := monthOfSegments()
	ranges := mergeRanges(recs, recs[0].Start, recs[len(recs)-1].End)
	var buf []byte
	for b.Loop() {
		buf = appendRecordingList(buf[:0], ranges, recs)
	}
	b.ReportMetric(float64(len(buf))/1e6, "MB")
}
