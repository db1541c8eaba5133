package storage

import (
	"net/url"
	"strings"
)

// sqliteParam is a connection parameter of github.com/mattn/go-sqlite3 that Open sets unless
// the DSN already sets it (under any of its aliases).
type sqliteParam struct {
	names []string // the first is the one we write
	value string
}

// sqliteDefaults are applied to every connection, because SQLite keeps most of these settings
// per connection rather than per file.
var sqliteDefaults = []sqliteParam{
	// WAL lets the web layer read while the recorder indexes segments; it is stored in the file.
	{names: []string{"_journal_mode", "_journal"}, value: "WAL"},
	// Wait for a competing writer instead of failing at once with SQLITE_BUSY.
	{names: []string{"_busy_timeout", "_timeout"}, value: "5000"},
	// Foreign keys are off by default in SQLite; channels rely on ON DELETE CASCADE.
	{names: []string{"_foreign_keys", "_fk"}, value: "1"},
	// A deferred transaction that reads and then writes cannot wait out another writer
	// (SQLITE_BUSY regardless of busy_timeout); taking the write lock at BEGIN avoids that.
	{names: []string{"_txlock"}, value: "immediate"},
}

// sqliteReadOnly are the parameters of the read pool's connections, which replace the caller's.
var sqliteReadOnly = []sqliteParam{
	// The read pool must never write: a second writer connection would bring back the
	// SQLITE_BUSY waits the single writer avoids. query_only refuses writes on the connection
	// whatever the SQL, where mode=ro would need a file: URI.
	{names: []string{"_query_only"}, value: "1"},
	// A read transaction must not take the write lock at BEGIN.
	{names: []string{"_txlock"}, value: "deferred"},
}

// sqliteDSN adds our default connection parameters to dsn, keeping any the caller set.
func sqliteDSN(dsn string) string {
	return withParams(dsn, sqliteDefaults, nil)
}

// sqliteReadDSN is sqliteDSN for the read pool: the same file and settings, read-only.
func sqliteReadDSN(dsn string) string {
	return withParams(dsn, sqliteDefaults, sqliteReadOnly)
}

// withParams sets each of defaults in dsn unless the DSN sets it under one of its names, and
// each of force whatever the DSN says.
func withParams(dsn string, defaults, force []sqliteParam) string {
	path, rawQuery, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		// Leave a DSN we cannot parse to the driver, which reports it better than we could.
		return dsn
	}
	for _, p := range force {
		for _, n := range p.names {
			q.Del(n)
		}
		q.Set(p.names[0], p.value)
	}
	for _, p := range defaults {
		set := false
		for _, n := range p.names {
			if q.Has(n) {
				set = true
			}
		}
		if !set {
			q.Set(p.names[0], p.value)
		}
	}
	return path + "?" + q.Encode()
}

// isSQLiteMemory reports whether dsn names an in-memory database.
func isSQLiteMemory(dsn string) bool {
	path, rawQuery, _ := strings.Cut(dsn, "?")
	if path == ":memory:" || path == "file::memory:" {
		return true
	}
	q, err := url.ParseQuery(rawQuery)
	return err == nil && q.Get("mode") == "memory"
}
