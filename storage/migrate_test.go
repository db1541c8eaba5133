package storage

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// openRaw opens an empty SQLite file with the production connection settings but without
// running the embedded migrations, so each test feeds migrate its own.
func openRaw(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", sqliteDSN(filepath.Join(t.TempDir(), "test.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func versions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	v, err := appliedVersions(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(v)
	return v
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// base is a history in which each step depends on the previous one, so running them out of
// order fails.
var base = map[string]string{
	"0001_create_t.sql": "CREATE TABLE t (x INTEGER NOT NULL);",
	"0002_add_y.sql":    "ALTER TABLE t ADD COLUMN y TEXT NOT NULL DEFAULT '';",
	"0003_fill.sql":     "-- two statements in one file\nINSERT INTO t (x, y) VALUES (1, 'a');\nINSERT INTO t (x, y) VALUES (2, 'b');",
	"README.md":         "not a migration",
}

func TestMigrateAppliesInOrder(t *testing.T) {
	db := openRaw(t)
	if err := migrate(t.Context(), db, mapFS(base), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := versions(t, db), []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	var name string
	if err := db.QueryRowContext(t.Context(), "SELECT name FROM schema_migrations WHERE version = 2").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "add_y" {
		t.Errorf("name of version 2 = %q, want add_y", name)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM t WHERE y != ''").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := openRaw(t)
	for range 3 {
		if err := migrate(t.Context(), db, mapFS(base), testLogger(t)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d rows after three runs, want 2 (0003 ran more than once)", n)
	}
}

func TestMigrateAppliesOnlyNewOnes(t *testing.T) {
	db := openRaw(t)
	first := map[string]string{"0001_create_t.sql": base["0001_create_t.sql"]}
	if err := migrate(t.Context(), db, mapFS(first), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if err := migrate(t.Context(), db, mapFS(base), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := versions(t, db), []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
}

func TestMigrateRefusesNewerDatabase(t *testing.T) {
	db := openRaw(t)
	if err := migrate(t.Context(), db, mapFS(base), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	older := map[string]string{"0001_create_t.sql": base["0001_create_t.sql"]}
	err := migrate(t.Context(), db, mapFS(older), testLogger(t))
	want := "storage: database schema version 3 is newer than this nvr binary supports (1); use a newer nvr"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) {
		t.Errorf("error %T is not a *SchemaTooNewError", err)
	}
}

func TestMigrateRollsBackFailure(t *testing.T) {
	db := openRaw(t)
	broken := map[string]string{
		"0001_create_t.sql": base["0001_create_t.sql"],
		// The first statement succeeds; the second fails, and must take the first with it.
		"0002_broken.sql": "CREATE TABLE half (x INTEGER);\nINSERT INTO missing VALUES (1);",
	}
	err := migrate(t.Context(), db, mapFS(broken), testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "0002_broken.sql") {
		t.Fatalf("error %v, want one naming 0002_broken.sql", err)
	}
	if got, want := versions(t, db), []int{1}; !slices.Equal(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	if tableExists(t, db, "half") {
		t.Error("table created by the failed migration survived")
	}

	// Once fixed, the same version applies normally.
	broken["0002_broken.sql"] = "CREATE TABLE half (x INTEGER);"
	if err := migrate(t.Context(), db, mapFS(broken), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if !tableExists(t, db, "half") {
		t.Error("fixed migration did not run")
	}
}

func TestMigrateRefusesGapInHistory(t *testing.T) {
	db := openRaw(t)
	skipped := map[string]string{
		"0001_create_t.sql": base["0001_create_t.sql"],
		"0003_other.sql":    "CREATE TABLE u (x INTEGER);",
	}
	if err := migrate(t.Context(), db, mapFS(skipped), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	skipped["0002_late.sql"] = "CREATE TABLE late (x INTEGER);"
	err := migrate(t.Context(), db, mapFS(skipped), testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "0002_late.sql was never applied") {
		t.Fatalf("error %v, want one about 0002_late.sql", err)
	}
}

func TestParseMigrations(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []int  // versions, when valid
		err   string // substring of the error, when not
	}{
		{"sorted numerically", []string{"0010_j.sql", "0002_b.sql", "0001_a.sql"}, []int{1, 2, 10}, ""},
		{"other files ignored", []string{"0001_a.sql", "README.md", "dir/0005_x.sql"}, []int{1}, ""},
		{"empty", nil, nil, ""},
		{"short number", []string{"001_a.sql"}, nil, "version is not 4 digits"},
		{"letters in number", []string{"00a1_a.sql"}, nil, "version is not 4 digits"},
		{"no description", []string{"0001.sql"}, nil, "no description"},
		{"empty description", []string{"0001_.sql"}, nil, "no description"},
		{"upper case", []string{"0001_Init.sql"}, nil, "description may only hold"},
		{"dash", []string{"0001_add-x.sql"}, nil, "description may only hold"},
		{"zero", []string{"0000_a.sql"}, nil, "versions start at 0001"},
		{"duplicate", []string{"0001_a.sql", "0002_b.sql", "0002_c.sql"}, nil,
			"migrations 0002_b.sql and 0002_c.sql have the same version 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			ms, err := parseMigrations(fsys)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("versions %v, want %v", got, tt.want)
			}
		})
	}
}
