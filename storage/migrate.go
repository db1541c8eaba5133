package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string // the description part of the file name, e.g. "init"
	file    string
}

// SchemaTooNewError is returned by Open when the database was migrated by a newer nvr than this
// one: running an older binary against it could misread or damage tables it does not know.
type SchemaTooNewError struct {
	// Database is the highest migration version recorded in the database.
	Database int
	// Binary is the highest migration version embedded in this binary.
	Binary int
}

// Error implements error.
func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("storage: database schema version %d is newer than this nvr binary supports (%d); use a newer nvr",
		e.Database, e.Binary)
}

// createMigrationsTable records which migrations ran. It is not itself a numbered migration
// because the runner needs it before it can know which migrations to run.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT     NOT NULL,
    applied_at DATETIME NOT NULL
)`

// parseMigrations lists the *.sql files at the root of fsys in version order. A file name must
// be NNNN_description.sql with a version of at least 1, and no two files may share a version.
// Other files (a README, say) are ignored.
func parseMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("storage: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("storage: migrations %s and %s have the same version %d",
				out[i-1].file, out[i].file, out[i].version)
		}
	}
	return out, nil
}

// parseMigrationName splits "0001_init.sql" into version 1 and name "init".
func parseMigrationName(file string) (migration, error) {
	bad := func(why string) (migration, error) {
		return migration{}, fmt.Errorf("storage: migration file %q: %s (want NNNN_description.sql)", file, why)
	}
	num, desc, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
	if !ok || desc == "" {
		return bad("no description")
	}
	if len(num) != 4 {
		return bad("version is not 4 digits")
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return bad("version is not 4 digits")
		}
	}
	for _, r := range desc {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return bad("description may only hold a-z, 0-9 and _")
		}
	}
	v, _ := strconv.Atoi(num) // four ASCII digits always parse
	if v == 0 {
		return bad("versions start at 0001")
	}
	return migration{version: v, name: desc, file: file}, nil
}

// migrate applies the migrations of fsys that db has not recorded yet, in version order.
//
// Each migration runs in its own transaction together with the row recording it, so a failing
// migration leaves neither half-created tables nor a version claiming it ran; SQLite's DDL is
// transactional. Consequence for authors: PRAGMA foreign_keys cannot change inside a
// transaction, so a migration that rebuilds a referenced table must not rely on turning it off.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, logger *slog.Logger) error {
	ms, err := parseMigrations(fsys)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("storage: create schema_migrations: %w", err)
	}

	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return err
	}
	newest := 0
	if len(ms) > 0 {
		newest = ms[len(ms)-1].version
	}
	current := 0
	if len(applied) > 0 {
		current = slices.Max(applied)
	}
	if current > newest {
		return &SchemaTooNewError{Database: current, Binary: newest}
	}

	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
		if m.version < current {
			// A gap below the newest applied version means the database and this binary
			// disagree about history (for example a migration was renumbered after release);
			// applying it now, out of order, could do anything.
			return fmt.Errorf("storage: migration %s was never applied but the database is already at version %d",
				m.file, current)
		}
		ran, err := applyMigration(ctx, db, fsys, m)
		if err != nil {
			return err
		}
		if !ran {
			continue
		}
		logger.InfoContext(ctx, "applied database migration", "version", m.version, "name", m.name)
	}
	return nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
	}
	return out, nil
}

// applyMigration runs one migration and records it, atomically. ran is false when another
// process recorded it first.
func applyMigration(ctx context.Context, db *sql.DB, fsys fs.FS, m migration) (ran bool, err error) {
	body, err := fs.ReadFile(fsys, m.file)
	if err != nil {
		return false, fmt.Errorf("storage: read migration %s: %w", m.file, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("storage: migration %s: %w", m.file, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()

	// Another nvr process may have applied it since we looked; now that we hold the write lock
	// (the DSN asks for immediate transactions) the answer cannot change under us.
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("storage: migration %s: %w", m.file, err)
	}
	if n > 0 {
		return false, ignoreDone(tx.Rollback())
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, fmt.Errorf("storage: migration %s: %w", m.file, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UTC()); err != nil {
		return false, fmt.Errorf("storage: record migration %s: %w", m.file, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("storage: commit migration %s: %w", m.file, err)
	}
	return true, nil
}

// ignoreDone drops sql.ErrTxDone, which Rollback returns after a failed Commit already ended
// the transaction.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
