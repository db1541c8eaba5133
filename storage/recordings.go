package storage

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/nvr/nvr/device"
)

// MaxRecordingSpan is the longest recording AddRecording accepts. Listing a time range relies on
// it: rows that overlap [from, to) start at or after from-MaxRecordingSpan, which turns "ends
// after from" into a bounded scan of the (channel_id, start_ms) index instead of one reaching
// back to the channel's first recording.
const MaxRecordingSpan = 24 * time.Hour

// recordingRow mirrors the recordings table of migration 0003_recordings.sql.
type recordingRow struct {
	ID        int64 `gorm:"primaryKey"`
	ChannelID int64
	Stream    string
	StartMS   int64 `gorm:"column:start_ms"`
	EndMS     int64 `gorm:"column:end_ms"`
	Bytes     int64
	Codecs    string
	Path      string
	CreatedAt time.Time
}

func (recordingRow) TableName() string { return "recordings" }

func newRecordingRow(r *device.Recording) *recordingRow {
	return &recordingRow{
		ID: r.ID, ChannelID: r.ChannelID, Stream: r.Stream, StartMS: r.Start.UnixMilli(), EndMS: r.End.UnixMilli(),
		Bytes: r.Bytes, Codecs: r.Codecs, Path: r.Path, CreatedAt: r.CreatedAt,
	}
}

// recordingPolicyRow mirrors the recording_policies table of migration 0003_recordings.sql.
type recordingPolicyRow struct {
	ChannelID int64 `gorm:"primaryKey;autoIncrement:false"`
	Mode      string
	Schedule  string
	MaxAgeS   int64 `gorm:"column:max_age_s"`
	UpdatedAt time.Time
}

func (recordingPolicyRow) TableName() string { return "recording_policies" }

func (r *recordingPolicyRow) toDomain() device.RecordingPolicy {
	return device.RecordingPolicy{
		ChannelID: r.ChannelID, Mode: device.RecordMode(r.Mode), Schedule: r.Schedule,
		MaxAge: time.Duration(r.MaxAgeS) * time.Second, UpdatedAt: r.UpdatedAt,
	}
}

// recordingColumns are the columns RecordingFiles and retention read, in the order
// scanRecording scans them. created_at is left out: nothing that lists recordings needs it.
const recordingColumns = "id, channel_id, stream, start_ms, end_ms, bytes, codecs, path"

// checkRecording refuses a recording the index cannot hold correctly.
func checkRecording(r *device.Recording) error {
	switch {
	case r == nil:
		return errors.New("nil recording")
	case r.Path == "":
		return errors.New("recording without a path")
	case r.End.Before(r.Start):
		return fmt.Errorf("recording %s ends (%v) before it starts (%v)", r.Path, r.End, r.Start)
	case r.End.Sub(r.Start) > MaxRecordingSpan:
		return fmt.Errorf("recording %s lasts %v, more than %v", r.Path, r.End.Sub(r.Start), MaxRecordingSpan)
	case r.Bytes < 0:
		return fmt.Errorf("recording %s has %d bytes", r.Path, r.Bytes)
	}
	return nil
}

// wrapRecording is wrap, with a foreign key violation (the channel does not exist) reported as
// device.ErrNotFound.
func (db *DB) wrapRecording(err error, format string, args ...any) error {
	// Raw statements bypass gorm's error translation; do it here.
	if tr, ok := db.gorm.Dialector.(gorm.ErrorTranslator); ok && err != nil {
		err = tr.Translate(err)
	}
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		err = gorm.ErrRecordNotFound
	}
	return wrap(err, format, args...)
}

// AddRecording indexes a recorded segment and fills its ID and CreatedAt. It returns
// device.ErrNotFound when the channel does not exist and device.ErrConflict when the path is
// already indexed (a segment offered twice, e.g. by crash recovery).
func (db *DB) AddRecording(ctx context.Context, r *device.Recording) error {
	if err := checkRecording(r); err != nil {
		return fmt.Errorf("storage: add recording: %w", err)
	}
	row := newRecordingRow(r)
	row.ID, row.CreatedAt = 0, db.now()
	if err := db.writing(ctx, func(w *gorm.DB) error { return w.Create(row).Error }); err != nil {
		return db.wrapRecording(err, "add recording %s of channel %d", r.Path, r.ChannelID)
	}
	r.ID, r.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// AddRecordings indexes many segments in one transaction, for crash recovery at start-up. Paths
// already indexed are skipped (their ID stays 0); the others get their ID and CreatedAt. It
// returns device.ErrNotFound, and stores nothing, when a channel does not exist.
func (db *DB) AddRecordings(ctx context.Context, rs []*device.Recording) error {
	for _, r := range rs {
		if err := checkRecording(r); err != nil {
			return fmt.Errorf("storage: add recordings: %w", err)
		}
	}
	now := db.now()
	ids := make([]int64, len(rs))
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		for i, r := range rs {
			// One statement per row: with ON CONFLICT DO NOTHING a multi-row INSERT returns
			// fewer IDs than rows and no way to tell which rows they belong to.
			err := tx.Raw("INSERT INTO recordings (channel_id, stream, start_ms, end_ms, bytes, codecs, path, created_at) "+
				"VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING RETURNING id",
				r.ChannelID, r.Stream, r.Start.UnixMilli(), r.End.UnixMilli(), r.Bytes, r.Codecs, r.Path, now).Row().Scan(&ids[i])
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return db.wrapRecording(err, "add %d recordings", len(rs))
	}
	for i, r := range rs {
		r.ID = ids[i]
		if ids[i] != 0 {
			r.CreatedAt = now
		}
	}
	return nil
}

// ListRecordings returns the recordings of a channel that overlap [from, to), ordered by start,
// with ID, ChannelID, Start, End and Bytes filled: the timeline of a channel, which a console
// asks for a month at a time (43,200 rows). RecordingFiles returns whole rows.
//
// It reads only the rows that can overlap (see MaxRecordingSpan) through the (channel_id,
// start_ms) index, and only integer columns, which SQLite joins into one text value: go-sqlite3
// makes a cgo call per column of every row, which for a month costs more than the query itself.
func (db *DB) ListRecordings(ctx context.Context, channelID int64, from, to time.Time) ([]device.Recording, error) {
	fromMS, toMS := from.UnixMilli(), to.UnixMilli()
	what := fmt.Sprintf("list recordings of channel %d", channelID)
	v, err := db.queryInts(ctx, what, listRecordingsQuery, channelID, fromMS-MaxRecordingSpan.Milliseconds(), toMS, fromMS)
	if err != nil {
		return nil, err
	}
	if len(v)%4 != 0 {
		return nil, wrap(fmt.Errorf("%d values for rows of 4", len(v)), "%s", what)
	}
	out := make([]device.Recording, len(v)/4)
	for i := range out {
		r := v[4*i : 4*i+4]
		out[i] = device.Recording{
			ID: r[0], ChannelID: channelID, Start: time.UnixMilli(r[1]).UTC(), End: time.UnixMilli(r[2]).UTC(), Bytes: r[3],
		}
	}
	// group_concat promises no order; it is the index's (start, then ID) in practice, so this
	// sort only checks.
	less := func(a, b device.Recording) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	}
	if !slices.IsSortedFunc(out, less) {
		slices.SortFunc(out, less)
	}
	return out, nil
}

// listRecordingsQuery lists the timeline of a channel: (channel, earliest start, end of range,
// start of range).
const listRecordingsQuery = "SELECT group_concat(id || ' ' || start_ms || ' ' || end_ms || ' ' || bytes, ' ') FROM recordings " +
	"WHERE channel_id = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ?"

// queryInts runs a query whose single row holds a text of integers separated by single spaces
// (a group_concat, NULL for none) and returns the integers.
func (db *DB) queryInts(ctx context.Context, what, query string, args ...any) ([]int64, error) {
	var text []byte
	if err := db.read.WithContext(ctx).Raw(query, args...).Row().Scan(&text); err != nil {
		return nil, wrap(err, "%s", what)
	}
	out := make([]int64, 0, bytes.Count(text, []byte{' '})+1)
	for len(text) > 0 {
		f, rest, _ := bytes.Cut(text, []byte{' '})
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return nil, wrap(err, "%s", what)
		}
		out = append(out, n)
		text = rest
	}
	return out, nil
}

// RecordingFiles returns the whole recordings (path, codecs and stream included) of a channel
// that overlap [from, to), ordered by start: what an export, a playlist or a download of the
// range needs.
func (db *DB) RecordingFiles(ctx context.Context, channelID int64, from, to time.Time) ([]device.Recording, error) {
	fromMS, toMS := from.UnixMilli(), to.UnixMilli()
	return db.queryRecordings(ctx, fmt.Sprintf("recording files of channel %d", channelID),
		"SELECT "+recordingColumns+" FROM recordings WHERE channel_id = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ? ORDER BY start_ms, id",
		channelID, fromMS-MaxRecordingSpan.Milliseconds(), toMS, fromMS)
}

// Recording returns one whole recording by ID, or device.ErrNotFound: what serving a segment
// file needs.
func (db *DB) Recording(ctx context.Context, id int64) (*device.Recording, error) {
	rs, err := db.queryRecordings(ctx, fmt.Sprintf("recording %d", id),
		"SELECT "+recordingColumns+" FROM recordings WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, wrap(gorm.ErrRecordNotFound, "recording %d", id)
	}
	return &rs[0], nil
}

// OldestRecordings returns up to limit recordings of all channels, oldest start first: what
// retention deletes first to meet the byte quota and the free-space floor.
func (db *DB) OldestRecordings(ctx context.Context, limit int) ([]device.Recording, error) {
	if limit <= 0 {
		return nil, errors.New("storage: oldest recordings: limit must be positive")
	}
	return db.queryRecordings(ctx, "oldest recordings",
		"SELECT "+recordingColumns+" FROM recordings ORDER BY start_ms, id LIMIT ?", limit)
}

// ExpiredRecordings returns up to limit recordings of a channel that ended before before, oldest
// first: what retention deletes for the channel's maximum age.
func (db *DB) ExpiredRecordings(ctx context.Context, channelID int64, before time.Time, limit int) ([]device.Recording, error) {
	if limit <= 0 {
		return nil, errors.New("storage: expired recordings: limit must be positive")
	}
	// end_ms < before implies start_ms < before: the second condition lets the index bound the
	// scan.
	b := before.UnixMilli()
	return db.queryRecordings(ctx, fmt.Sprintf("expired recordings of channel %d", channelID),
		"SELECT "+recordingColumns+" FROM recordings WHERE channel_id = ? AND start_ms < ? AND end_ms < ? ORDER BY start_ms, id LIMIT ?",
		channelID, b, b, limit)
}

// cancelCheckRows is how many rows a long scan reads between checks of its context.
const cancelCheckRows = 4096

// scanContext returns the context to run a many-row query in: ctx without its cancellation.
// With a cancellable context, go-sqlite3 starts a goroutine for every row (to interrupt a step
// on cancellation), which makes a 43,200-row scan about four times slower; long scans check
// ctx themselves every cancelCheckRows rows instead.
func scanContext(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// queryRecordings runs a query selecting recordingColumns and scans the rows by hand, sparing
// gorm's per-row reflection.
func (db *DB) queryRecordings(ctx context.Context, what, query string, args ...any) (out []device.Recording, err error) {
	rows, err := db.read.WithContext(scanContext(ctx)).Raw(query, args...).Rows()
	if err != nil {
		return nil, wrap(err, "%s", what)
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	for n := 1; rows.Next(); n++ {
		if n%cancelCheckRows == 0 && ctx.Err() != nil {
			return nil, wrap(ctx.Err(), "%s", what)
		}
		var r device.Recording
		var start, end int64
		if err := rows.Scan(&r.ID, &r.ChannelID, &r.Stream, &start, &end, &r.Bytes, &r.Codecs, &r.Path); err != nil {
			return nil, wrap(err, "%s", what)
		}
		r.Start, r.End = time.UnixMilli(start).UTC(), time.UnixMilli(end).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "%s", what)
	}
	return out, nil
}

// RecordingDays sums up a channel's recordings per day over the month that holds month (in loc;
// nil means UTC): the days that have recordings, in order, with the time they cover. A recording
// that spans midnight counts for both days, each with its part.
func (db *DB) RecordingDays(ctx context.Context, channelID int64, month time.Time, loc *time.Location) ([]device.RecordingDay, error) {
	if loc == nil {
		loc = time.UTC
	}
	m := month.In(loc)
	first := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
	next := first.AddDate(0, 1, 0)
	fromMS, toMS := first.UnixMilli(), next.UnixMilli()
	what := fmt.Sprintf("recording days of channel %d", channelID)
	v, err := db.queryInts(ctx, what,
		"SELECT group_concat(start_ms || ' ' || end_ms, ' ') FROM recordings WHERE channel_id = ? AND start_ms >= ? AND start_ms < ? AND end_ms > ?",
		channelID, fromMS-MaxRecordingSpan.Milliseconds(), toMS, fromMS)
	if err != nil {
		return nil, err
	}
	if len(v)%2 != 0 {
		return nil, wrap(fmt.Errorf("%d values for rows of 2", len(v)), "%s", what)
	}

	// Midnights of the month in loc, which DST makes 23 or 25 hours apart.
	var bounds []int64
	for d := first; !d.After(next); d = d.AddDate(0, 0, 1) {
		bounds = append(bounds, d.UnixMilli())
	}
	recorded := make([]int64, len(bounds)-1)
	count := make([]int, len(bounds)-1)
	for k := 0; k < len(v); k += 2 {
		s, e := max(v[k], fromMS), min(v[k+1], toMS)
		// The day holding s (bounds[d] <= s < bounds[d+1]), then every following day e
		// reaches into.
		d0, _ := slices.BinarySearch(bounds, s+1)
		d0--
		for d := d0; d < len(recorded); d++ {
			lo, hi := max(s, bounds[d]), min(e, bounds[d+1])
			if hi > lo || d == d0 {
				recorded[d] += max(hi-lo, 0)
				count[d]++
			}
			if e <= bounds[d+1] {
				break
			}
		}
	}
	var out []device.RecordingDay
	for i, n := range count {
		if n > 0 {
			out = append(out, device.RecordingDay{
				Day:      time.UnixMilli(bounds[i]).In(loc),
				Recorded: time.Duration(recorded[i]) * time.Millisecond,
				Segments: n,
			})
		}
	}
	return out, nil
}

// DeleteRecordings removes recordings from the index (not their files: delete those first) and
// returns how many rows went. Unknown IDs are ignored.
func (db *DB) DeleteRecordings(ctx context.Context, ids []int64) (int64, error) {
	var n int64
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		for batch := range slices.Chunk(ids, idBatch) {
			res := tx.Where("id IN ?", batch).Delete(&recordingRow{})
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err, "delete %d recordings", len(ids))
	}
	return n, nil
}

// RecordingBytesTotal returns the size of all indexed recordings and their number. Triggers keep
// the sum, so this costs one row read however many recordings there are.
func (db *DB) RecordingBytesTotal(ctx context.Context) (bytes, count int64, err error) {
	row := db.read.WithContext(ctx).Raw("SELECT bytes, count FROM recording_usage WHERE id = 1").Row()
	if err := row.Scan(&bytes, &count); err != nil {
		return 0, 0, wrap(err, "recording usage")
	}
	return bytes, count, nil
}

// OrphanedRecordingPaths returns up to limit files of recordings whose channel was deleted (the
// cascade removed their rows, a trigger kept their paths). Retention deletes the files, then
// calls ForgetOrphanedRecordings.
func (db *DB) OrphanedRecordingPaths(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, errors.New("storage: orphaned recordings: limit must be positive")
	}
	var paths []string
	err := db.read.WithContext(ctx).Raw("SELECT path FROM recording_orphans ORDER BY path LIMIT ?", limit).Scan(&paths).Error
	if err != nil {
		return nil, wrap(err, "orphaned recordings")
	}
	return paths, nil
}

// ForgetOrphanedRecordings removes paths from the orphans OrphanedRecordingPaths lists.
func (db *DB) ForgetOrphanedRecordings(ctx context.Context, paths []string) error {
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		for batch := range slices.Chunk(paths, idBatch) {
			if err := tx.Exec("DELETE FROM recording_orphans WHERE path IN ?", batch).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "forget %d orphaned recordings", len(paths))
}

// SetRecordingPolicy stores a channel's recording policy, replacing the one it had, and sets its
// UpdatedAt. It returns device.ErrNotFound when the channel does not exist. An invalid mode, a
// schedule that is not JSON, a schedule mode without a schedule and a negative MaxAge are
// refused.
func (db *DB) SetRecordingPolicy(ctx context.Context, p *device.RecordingPolicy) error {
	switch {
	case p == nil:
		return errors.New("storage: set recording policy: nil policy")
	case !p.Mode.Valid():
		return fmt.Errorf("storage: set recording policy of channel %d: invalid mode %q", p.ChannelID, p.Mode)
	case p.Schedule != "" && !json.Valid([]byte(p.Schedule)):
		return fmt.Errorf("storage: set recording policy of channel %d: schedule is not JSON", p.ChannelID)
	case p.Mode == device.RecordSchedule && p.Schedule == "":
		return fmt.Errorf("storage: set recording policy of channel %d: schedule mode without a schedule", p.ChannelID)
	case p.MaxAge < 0:
		return fmt.Errorf("storage: set recording policy of channel %d: negative max age", p.ChannelID)
	}
	row := &recordingPolicyRow{
		ChannelID: p.ChannelID, Mode: string(p.Mode), Schedule: p.Schedule,
		MaxAgeS: int64(p.MaxAge / time.Second), UpdatedAt: db.now(),
	}
	err := db.writing(ctx, func(w *gorm.DB) error {
		return w.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "channel_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"mode", "schedule", "max_age_s", "updated_at"}),
		}).Create(row).Error
	})
	if err != nil {
		return db.wrapRecording(err, "set recording policy of channel %d", p.ChannelID)
	}
	p.UpdatedAt = row.UpdatedAt
	return nil
}

// RecordingPolicy returns a channel's recording policy: the stored one, or RecordOff with a zero
// UpdatedAt when none was stored. It does not check that the channel exists.
func (db *DB) RecordingPolicy(ctx context.Context, channelID int64) (device.RecordingPolicy, error) {
	var rows []recordingPolicyRow
	if err := db.read.WithContext(ctx).Where("channel_id = ?", channelID).Limit(1).Find(&rows).Error; err != nil {
		return device.RecordingPolicy{}, wrap(err, "recording policy of channel %d", channelID)
	}
	if len(rows) == 0 {
		return device.RecordingPolicy{ChannelID: channelID, Mode: device.RecordOff}, nil
	}
	return rows[0].toDomain(), nil
}

// ListRecordingPolicies returns every stored policy, by channel ID. Channels without one are
// not recorded.
func (db *DB) ListRecordingPolicies(ctx context.Context) ([]device.RecordingPolicy, error) {
	var rows []recordingPolicyRow
	if err := db.read.WithContext(ctx).Order("channel_id").Find(&rows).Error; err != nil {
		return nil, wrap(err, "list recording policies")
	}
	out := make([]device.RecordingPolicy, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
