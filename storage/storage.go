// Package storage persists the platform's domain types in a SQL database.
//
// It is the only package that imports gorm: everything above it sees device types and the
// sentinel errors device.ErrNotFound and device.ErrConflict, never gorm types or driver errors.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/nvr/nvr/migrations"
)

// DriverSQLite is the name of the SQLite driver in Options.Driver.
const DriverSQLite = "sqlite"

// defaultFileName is the SQLite database file created in Options.DataDir when no DSN is given.
const defaultFileName = "nvr.db"

// Options configures Open.
type Options struct {
	// Driver selects the database; only "sqlite" is supported so far, and empty means sqlite.
	Driver string
	// DSN is the driver's data source name; for sqlite, empty means <DataDir>/nvr.db.
	DSN string
	// DataDir is the directory holding the default SQLite file.
	DataDir string
	// Logger receives migration progress and slow or failed queries; nil discards them.
	Logger *slog.Logger
}

// DB is an open, migrated database with the repositories of the platform.
type DB struct {
	gorm *gorm.DB
	sql  *sql.DB
}

// Open connects to the database described by opts and brings its schema up to date with the
// migrations embedded in this binary.
func Open(ctx context.Context, opts Options) (*DB, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "storage")

	var (
		dialector  gorm.Dialector
		singleConn bool
	)
	switch opts.Driver {
	case DriverSQLite, "":
		dsn := opts.DSN
		if dsn == "" {
			if opts.DataDir == "" {
				return nil, errors.New("storage: either DSN or DataDir is required")
			}
			dsn = filepath.Join(opts.DataDir, defaultFileName)
		}
		dialector = sqlite.Open(sqliteDSN(dsn))
		// Every connection to an in-memory SQLite database opens a different, empty database,
		// so the pool must never hold more than one.
		singleConn = isSQLiteMemory(dsn)
	default:
		return nil, fmt.Errorf("storage: unsupported database driver %q (supported: %s)", opts.Driver, DriverSQLite)
	}

	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger: newGormLogger(logger),
		// Turns driver-specific unique violations into gorm.ErrDuplicatedKey, which we map to
		// device.ErrConflict without parsing error strings per dialect.
		TranslateError: true,
		// Stored times are UTC so that rows written by hosts in different zones compare and sort.
		NowFunc: func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("storage: open %s database: %w", dialector.Name(), err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("storage: open %s database: %w", dialector.Name(), err)
	}
	if singleConn {
		sqlDB.SetMaxOpenConns(1)
	}

	db := &DB{gorm: gdb, sql: sqlDB}
	if err := migrate(ctx, sqlDB, migrations.FS, logger); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database; the DB must not be used afterwards.
func (db *DB) Close() error {
	return db.sql.Close()
}

// Ping checks that the database is reachable, for health checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return nil
}
