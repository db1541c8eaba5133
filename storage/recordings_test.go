package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin for the DST test, on hosts without a zone database

	"github.com/nvr/nvr/device"
)

// recT0 is a minute boundary recordings of the tests start from.
var recT0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// newRecording returns a recording of a channel from start for d.
func newRecording(channelID int64, start time.Time, d time.Duration) *device.Recording {
	return &device.Recording{
		ChannelID: channelID,
		Stream:    fmt.Sprintf("ch%d", channelID),
		Start:     start,
		End:       start.Add(d),
		Bytes:     15 << 20,
		Codecs:    "avc1.64001f,mp4a.40.2",
		Path:      fmt.Sprintf("/data/recordings/ch%d/%s/%d.mp4", channelID, start.Format("2006-01-02"), start.UnixMilli()),
	}
}

// recordingChannels creates a device with n channels and returns their IDs.
func recordingChannels(t testing.TB, db *DB, n int) []int64 {
	t.Helper()
	d, chans := newCamera("rec", n)
	if err := db.CreateDevice(context.Background(), d, chans); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i, c := range chans {
		ids[i] = c.ID
	}
	return ids
}

func recordingIDs(rs []device.Recording) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func TestRecordings(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	ch := recordingChannels(t, db, 2)

	// Channel 0: minutes 0, 1, 2 and 5 (a gap); channel 1: minute 1.
	var recs []*device.Recording
	for _, m := range []int{0, 1, 2, 5} {
		recs = append(recs, newRecording(ch[0], recT0.Add(time.Duration(m)*time.Minute), time.Minute))
	}
	recs = append(recs, newRecording(ch[1], recT0.Add(time.Minute), time.Minute))
	for _, r := range recs {
		if err := db.AddRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		if r.ID == 0 || r.CreatedAt.IsZero() {
			t.Fatalf("AddRecording did not fill ID and CreatedAt: %+v", r)
		}
	}

	got, err := db.ListRecordings(ctx, ch[0], recT0.Add(90*time.Second), recT0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Overlap is strict: minute 5 starts at the end of the range, so it is out.
	if ids := recordingIDs(got); !slices.Equal(ids, []int64{recs[1].ID, recs[2].ID}) {
		t.Errorf("ListRecordings = %v, want minutes 1 and 2", ids)
	}
	want := *recs[1]
	if g := got[0]; g.ID != want.ID || g.ChannelID != want.ChannelID || !g.Start.Equal(want.Start) ||
		!g.End.Equal(want.End) || g.Bytes != want.Bytes || g.Path != "" {
		t.Errorf("listed %+v, want the timeline fields of %+v", g, want)
	}
	files, err := db.RecordingFiles(ctx, ch[0], recT0.Add(90*time.Second), recT0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want.CreatedAt = time.Time{}
	if len(files) != 2 || !files[0].Start.Equal(want.Start) || !files[0].End.Equal(want.End) {
		t.Fatalf("RecordingFiles = %+v", files)
	}
	files[0].Start, files[0].End, want.Start, want.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if files[0] != want {
		t.Errorf("RecordingFiles[0] = %+v, want %+v", files[0], want)
	}
	if got, _ := db.ListRecordings(ctx, ch[0], recT0.Add(3*time.Minute), recT0.Add(5*time.Minute)); len(got) != 0 {
		t.Errorf("the gap lists %d recordings", len(got))
	}

	one, err := db.Recording(ctx, recs[2].ID)
	if err != nil || one.Path != recs[2].Path || !one.Start.Equal(recs[2].Start) || one.Codecs != recs[2].Codecs {
		t.Errorf("Recording(%d) = %+v, %v", recs[2].ID, one, err)
	}
	if _, err := db.Recording(ctx, 12345); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("Recording(unknown) = %v, want ErrNotFound", err)
	}

	// Errors callers act on.
	dup := newRecording(ch[0], recT0, time.Minute)
	if err := db.AddRecording(ctx, dup); !errors.Is(err, device.ErrConflict) {
		t.Errorf("indexing a path twice: %v, want ErrConflict", err)
	}
	if err := db.AddRecording(ctx, newRecording(9999, recT0, time.Minute)); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("recording of an unknown channel: %v, want ErrNotFound", err)
	}
	for name, r := range map[string]*device.Recording{
		"backwards": newRecording(ch[0], recT0.Add(time.Hour), -time.Minute),
		"too long":  newRecording(ch[0], recT0.Add(time.Hour), MaxRecordingSpan+time.Minute),
		"no path":   {ChannelID: ch[0], Start: recT0, End: recT0},
	} {
		if err := db.AddRecording(ctx, r); err == nil {
			t.Errorf("%s recording accepted", name)
		}
	}

	// Usage follows adds and deletes.
	if b, n, err := db.RecordingBytesTotal(ctx); err != nil || n != 5 || b != 5*15<<20 {
		t.Errorf("RecordingBytesTotal = %d, %d, %v", b, n, err)
	}
	oldest, err := db.OldestRecordings(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ids := recordingIDs(oldest); !slices.Equal(ids, []int64{recs[0].ID, recs[1].ID}) {
		t.Errorf("OldestRecordings = %v", ids)
	}
	expired, err := db.ExpiredRecordings(ctx, ch[0], recT0.Add(3*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	// Minute 2 ends at the bound: not before it.
	if ids := recordingIDs(expired); !slices.Equal(ids, []int64{recs[0].ID, recs[1].ID}) {
		t.Errorf("ExpiredRecordings = %v", ids)
	}
	if n, err := db.DeleteRecordings(ctx, []int64{recs[0].ID, 12345}); err != nil || n != 1 {
		t.Errorf("DeleteRecordings = %d, %v", n, err)
	}
	if b, n, _ := db.RecordingBytesTotal(ctx); n != 4 || b != 4*15<<20 {
		t.Errorf("after a delete: %d bytes in %d recordings", b, n)
	}
	// Retention's own deletes leave no orphans.
	if paths, err := db.OrphanedRecordingPaths(ctx, 10); err != nil || len(paths) != 0 {
		t.Errorf("orphans after retention = %v, %v", paths, err)
	}

	// Deleting the channel drops its rows and queues their files.
	if err := db.DeleteDevice(ctx, deviceOf(t, db, ch[0])); err != nil {
		t.Fatal(err)
	}
	if b, n, _ := db.RecordingBytesTotal(ctx); n != 0 || b != 0 {
		t.Errorf("after deleting the device: %d bytes in %d recordings", b, n)
	}
	paths, err := db.OrphanedRecordingPaths(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var wantPaths []string
	for _, r := range recs[1:] {
		wantPaths = append(wantPaths, r.Path)
	}
	slices.Sort(wantPaths)
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("orphans %v, want %v", paths, wantPaths)
	}
	if err := db.ForgetOrphanedRecordings(ctx, paths[:2]); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.OrphanedRecordingPaths(ctx, 10); !slices.Equal(left, paths[2:]) {
		t.Errorf("orphans after forgetting two: %v", left)
	}
}

// deviceOf returns the device ID of a channel.
func deviceOf(t *testing.T, db *DB, channelID int64) int64 {
	t.Helper()
	var id int64
	if err := db.sql.QueryRowContext(t.Context(), "SELECT device_id FROM channels WHERE id = ?", channelID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAddRecordings(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	ch := recordingChannels(t, db, 1)
	first := newRecording(ch[0], recT0, time.Minute)
	if err := db.AddRecording(ctx, first); err != nil {
		t.Fatal(err)
	}
	batch := []*device.Recording{
		newRecording(ch[0], recT0, time.Minute), // already indexed
		newRecording(ch[0], recT0.Add(time.Minute), time.Minute),
		newRecording(ch[0], recT0.Add(2*time.Minute), time.Minute),
	}
	if err := db.AddRecordings(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].ID != 0 || batch[1].ID == 0 || batch[2].ID == 0 || batch[1].ID == batch[2].ID {
		t.Errorf("IDs %d %d %d: want 0 for the known path, new ones for the rest", batch[0].ID, batch[1].ID, batch[2].ID)
	}
	if _, n, _ := db.RecordingBytesTotal(ctx); n != 3 {
		t.Errorf("%d recordings, want 3", n)
	}
	bad := []*device.Recording{newRecording(ch[0], recT0.Add(time.Hour), time.Minute), newRecording(777, recT0, time.Minute)}
	if err := db.AddRecordings(ctx, bad); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("batch with an unknown channel: %v", err)
	}
	if _, n, _ := db.RecordingBytesTotal(ctx); n != 3 {
		t.Errorf("a failed batch stored part of itself: %d recordings", n)
	}
}

func TestRecordingDays(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	ch := recordingChannels(t, db, 1)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, berlin) }
	recs := []*device.Recording{
		newRecording(ch[0], at(28, 23, 0), 30*time.Minute),               // 28th
		newRecording(ch[0], at(28, 23, 50), 20*time.Minute),              // 10 min on the 28th, 10 on the 29th
		newRecording(ch[0], at(29, 12, 0), time.Hour),                    // 29th, the 23-hour DST day
		newRecording(ch[0], at(31, 23, 30), time.Hour),                   // 30 min in March, 30 in April
		newRecording(ch[0], at(1, 0, 0).Add(-time.Hour), 30*time.Minute), // February 28th in Berlin
	}
	if err := db.AddRecordings(ctx, recs); err != nil {
		t.Fatal(err)
	}
	days, err := db.RecordingDays(ctx, ch[0], at(15, 12, 0), berlin)
	if err != nil {
		t.Fatal(err)
	}
	want := []device.RecordingDay{
		{Day: at(28, 0, 0), Recorded: 40 * time.Minute, Segments: 2},
		{Day: at(29, 0, 0), Recorded: 70 * time.Minute, Segments: 2},
		{Day: at(31, 0, 0), Recorded: 30 * time.Minute, Segments: 1},
	}
	if len(days) != len(want) {
		t.Fatalf("days %+v, want %+v", days, want)
	}
	for i := range want {
		if !days[i].Day.Equal(want[i].Day) || days[i].Recorded != want[i].Recorded || days[i].Segments != want[i].Segments {
			t.Errorf("day %d = %+v, want %+v", i, days[i], want[i])
		}
		if days[i].Day.Location() != berlin {
			t.Errorf("day %d in %v, want Europe/Berlin", i, days[i].Day.Location())
		}
	}
	// In UTC (one or two hours earlier) the same recordings fall differently.
	utc, err := db.RecordingDays(ctx, ch[0], at(15, 12, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(utc) != 3 || utc[0].Day.Day() != 28 || utc[0].Recorded != 50*time.Minute || utc[2].Recorded != time.Hour {
		t.Errorf("UTC days %+v", utc)
	}
}

func TestRecordingPolicies(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	ch := recordingChannels(t, db, 2)

	p, err := db.RecordingPolicy(ctx, ch[0])
	if err != nil || p.Mode != device.RecordOff || p.ChannelID != ch[0] {
		t.Errorf("policy of a new channel = %+v, %v; want off", p, err)
	}
	set := &device.RecordingPolicy{ChannelID: ch[0], Mode: device.RecordContinuous, MaxAge: 7 * 24 * time.Hour}
	if err := db.SetRecordingPolicy(ctx, set); err != nil {
		t.Fatal(err)
	}
	sched := &device.RecordingPolicy{ChannelID: ch[1], Mode: device.RecordSchedule, Schedule: `{"mon":[[0,86400]]}`}
	if err := db.SetRecordingPolicy(ctx, sched); err != nil {
		t.Fatal(err)
	}
	// Replacing keeps one row per channel.
	set.MaxAge = time.Hour
	if err := db.SetRecordingPolicy(ctx, set); err != nil {
		t.Fatal(err)
	}
	p, err = db.RecordingPolicy(ctx, ch[0])
	if err != nil || p.Mode != device.RecordContinuous || p.MaxAge != time.Hour || p.UpdatedAt.IsZero() {
		t.Errorf("policy = %+v, %v", p, err)
	}
	all, err := db.ListRecordingPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ChannelID != ch[0] || all[1].Schedule != sched.Schedule {
		t.Errorf("policies %+v", all)
	}

	for name, bad := range map[string]*device.RecordingPolicy{
		"mode":        {ChannelID: ch[0], Mode: "sometimes"},
		"schedule":    {ChannelID: ch[0], Mode: device.RecordSchedule, Schedule: "{mon"},
		"no schedule": {ChannelID: ch[0], Mode: device.RecordSchedule},
		"max age":     {ChannelID: ch[0], Mode: device.RecordOff, MaxAge: -time.Second},
	} {
		if err := db.SetRecordingPolicy(ctx, bad); err == nil {
			t.Errorf("bad %s accepted", name)
		}
	}
	if err := db.SetRecordingPolicy(ctx, &device.RecordingPolicy{ChannelID: 4242, Mode: device.RecordOff}); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("policy of an unknown channel: %v, want ErrNotFound", err)
	}
	if err := db.DeleteDevice(ctx, deviceOf(t, db, ch[0])); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.ListRecordingPolicies(ctx); len(all) != 0 {
		t.Errorf("policies outlive their channels: %+v", all)
	}
}

// fillMonth indexes a month of one-minute recordings of a channel: 43,200 rows, plus the same for
// another channel so that the index has to skip rows.
func fillMonth(t testing.TB, db *DB, ch []int64) {
	t.Helper()
	for _, c := range ch {
		rows := make([]*recordingRow, 0, 43200)
		for m := range 43200 {
			r := newRecordingRow(newRecording(c, recT0.Add(time.Duration(m)*time.Minute), time.Minute))
			r.CreatedAt = recT0
			rows = append(rows, r)
		}
		// Multi-row inserts: AddRecordings' row-at-a-time statements are slow under -race.
		if err := db.gorm.CreateInBatches(rows, 1000).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestListRecordingsMonth(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 86,400 rows")
	}
	db := openTest(t)
	ctx := t.Context()
	ch := recordingChannels(t, db, 2)
	fillMonth(t, db, ch)

	// The query reads the (channel_id, start_ms) index, not the table.
	rows, err := db.sql.QueryContext(ctx, "EXPLAIN QUERY PLAN "+listRecordingsQuery, ch[0], 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if p := strings.Join(plan, "; "); !strings.Contains(p, "idx_recordings_channel_start (channel_id=? AND start_ms>? AND start_ms<?)") {
		t.Errorf("query plan %q does not range over idx_recordings_channel_start", p)
	}

	start := time.Now()
	got, err := db.ListRecordings(ctx, ch[0], recT0, recT0.AddDate(0, 0, 30))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 43200 {
		t.Fatalf("listed %d recordings, want 43200", len(got))
	}
	t.Logf("listed a month (43,200 recordings) in %v", took)
	days, err := db.RecordingDays(ctx, ch[0], recT0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 30 || days[0].Recorded != 24*time.Hour || days[0].Segments != 1440 {
		t.Errorf("%d days, first %+v", len(days), days[0])
	}
}

// BenchmarkListRecordingsMonth lists one channel's month of one-minute segments (43,200 rows)
// in a table holding two such months.
func BenchmarkListRecordingsMonth(b *testing.B) {
	db, err := Open(b.Context(), Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ch := recordingChannels(b, db, 2)
	fillMonth(b, db, ch)
	ctx := b.Context()
	for b.Loop() {
		got, err := db.ListRecordings(ctx, ch[0], recT0, recT0.AddDate(0, 0, 30))
		if err != nil || len(got) != 43200 {
			b.Fatalf("listed %d, %v", len(got), err)
		}
	}
}

// BenchmarkRecordingDaysMonth sums up one channel's month per day.
func BenchmarkRecordingDaysMonth(b *testing.B) {
	db, err := Open(b.Context(), Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ch := recordingChannels(b, db, 2)
	fillMonth(b, db, ch)
	ctx := b.Context()
	for b.Loop() {
		if days, err := db.RecordingDays(ctx, ch[0], recT0, time.UTC); err != nil || len(days) != 30 {
			b.Fatalf("%d days, %v", len(days), err)
		}
	}
}
