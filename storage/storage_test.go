package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nvr/nvr/migrations"
)

// testLogger writes to the test's output, which go test shows only for failing or -v runs.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openTest opens a fresh SQLite file in a temporary directory, as production does.
func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), Options{Driver: DriverSQLite, DataDir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func pragma(t *testing.T, db *DB, name string) string {
	t.Helper()
	var v string
	if err := db.sql.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenConnectionSettings(t *testing.T) {
	db := openTest(t)
	// The pool may hand out a different connection per query; per-connection settings must hold
	// on all of them, so hold several open at once.
	db.sql.SetMaxIdleConns(4)
	for range 4 {
		for name, want := range map[string]string{
			"journal_mode": "wal",
			"foreign_keys": "1",
			"busy_timeout": "5000",
		} {
			if got := pragma(t, db, name); got != want {
				t.Errorf("PRAGMA %s = %q, want %q", name, got, want)
			}
		}
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestOpenDefaultFile(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(t.Context(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(filepath.Join(dir, defaultFileName)); err != nil {
		t.Errorf("default database file: %v", err)
	}
}

func TestOpenMemory(t *testing.T) {
	db, err := Open(t.Context(), Options{DSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// With more than one pooled connection the tables created by the migrations would be
	// missing on the second one.
	for range 3 {
		if _, err := db.CountUsers(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unsupported driver", Options{Driver: "mysql", DataDir: t.TempDir()},
			`storage: unsupported database driver "mysql" (supported: sqlite)`},
		{"no location", Options{Driver: DriverSQLite},
			"storage: either DSN or DataDir is required"},
		{"missing directory", Options{DataDir: filepath.Join(t.TempDir(), "missing")},
			"storage: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.opts)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestOpenIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	open := func() *DB {
		t.Helper()
		db, err := Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}

	db := open()
	if err := db.SetSetting(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open()
	defer db.Close()
	if v, ok, err := db.Setting(ctx, "k"); err != nil || !ok || v != "v" {
		t.Errorf("Setting after reopen = %q, %v, %v", v, ok, err)
	}
	embedded, err := parseMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := appliedVersions(ctx, db.sql)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(embedded) {
		t.Errorf("%d migrations recorded, want %d", len(applied), len(embedded))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := parseMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	binary := embedded[len(embedded)-1].version
	if _, err := db.sql.ExecContext(ctx,
		"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', CURRENT_TIMESTAMP)", binary+6); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(ctx, Options{DataDir: dir})
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database from a newer binary")
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != binary+6 || tooNew.Binary != binary {
		t.Errorf("error %#v, want SchemaTooNewError{%d, %d}", err, binary+6, binary)
	}
}

func TestSQLiteDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/data/nvr.db", "/data/nvr.db?_busy_timeout=5000&_foreign_keys=1&_journal_mode=WAL&_txlock=immediate"},
		// The caller's choices win, also under the driver's alias names.
		{"x.db?_journal=DELETE&_timeout=100", "x.db?_foreign_keys=1&_journal=DELETE&_timeout=100&_txlock=immediate"},
		{"file:x.db?_fk=0&cache=shared", "file:x.db?_busy_timeout=5000&_fk=0&_journal_mode=WAL&_txlock=immediate&cache=shared"},
	}
	for _, tt := range tests {
		if got := sqliteDSN(tt.in); got != tt.want {
			t.Errorf("sqliteDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSQLiteReadDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/data/nvr.db", "/data/nvr.db?_busy_timeout=5000&_foreign_keys=1&_journal_mode=WAL&_query_only=1&_txlock=deferred"},
		// The caller's settings are kept, except those that would let the pool write or lock.
		{"x.db?_timeout=100&_txlock=exclusive&_query_only=0", "x.db?_foreign_keys=1&_journal_mode=WAL&_query_only=1&_timeout=100&_txlock=deferred"},
	}
	for _, tt := range tests {
		if got := sqliteReadDSN(tt.in); got != tt.want {
			t.Errorf("sqliteReadDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlowQueryLogRate(t *testing.T) {
	var s slowLog
	start := time.Now()
	steps := []struct {
		at         time.Duration
		d          time.Duration
		ok         bool
		suppressed int
		slowest    time.Duration
	}{
		{0, time.Second, true, 0, 0},
		{time.Second, 3 * time.Second, false, 0, 0},
		{2 * time.Second, 2 * time.Second, false, 0, 0},
		{slowQueryPeriod, time.Second, true, 2, 3 * time.Second},
		{slowQueryPeriod + time.Second, time.Second, false, 0, 0},
	}
	for i, st := range steps {
		ok, n, slowest := s.allow(start.Add(st.at), st.d)
		if ok != st.ok || n != st.suppressed || slowest != st.slowest {
			t.Errorf("step %d: allow = %v, %d, %v; want %v, %d, %v", i, ok, n, slowest, st.ok, st.suppressed, st.slowest)
		}
	}
}

// A long statement is logged by its head and its length, cut on a rune
// boundary.
func TestShortSQL(t *testing.T) {
	if got := shortSQL("SELECT 1"); got != "SELECT 1" {
		t.Errorf("short statement changed: %q", got)
	}
	long := "UPDATE devices SET name = '摄像机' WHERE " + strings.Repeat("id = ? OR ", 1000)
	got := shortSQL(long)
	if len(got) > maxLoggedSQL+40 || !strings.HasPrefix(got, "UPDATE devices SET name = '摄像机'") ||
		!strings.HasSuffix(got, fmt.Sprintf("(%d bytes)", len(long))) || !utf8.ValidString(got) {
		t.Errorf("shortSQL = %q", got)
	}
}
