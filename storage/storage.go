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
//
// A SQLite file gets two pools (see openSQLite): writes go through one connection, serialized
// in Go by wlock, and reads outside transactions through a read-only pool of readConns. Other
// databases, and in-memory SQLite, use one pool for both.
type DB struct {
	gorm *gorm.DB // writes, and the reads inside their transactions
	sql  *sql.DB  // gorm's pool
	read *gorm.DB // reads outside transactions; gorm when there is no separate pool
	// readSQL is read's pool when it has its own, else nil.
	readSQL *sql.DB
	// wlock serializes writes when the database has a single writer (SQLite): a token is taken
	// before a write and given back after it. Nil means writes need no serializing.
	wlock chan struct{}
	// keepalives queues TouchKeepalive's writes.
	keepalives *keepalives
}

// Open connects to the database described by opts and brings its schema up to date with the
// migrations embedded in this binary.
func Open(ctx context.Context, opts Options) (*DB, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "storage")

	switch opts.Driver {
	case DriverSQLite, "":
		dsn := opts.DSN
		if dsn == "" {
			if opts.DataDir == "" {
				return nil, errors.New("storage: either DSN or DataDir is required")
			}
			dsn = filepath.Join(opts.DataDir, defaultFileName)
		}
		return openSQLite(ctx, dsn, logger)
	default:
		return nil, fmt.Errorf("storage: unsupported database driver %q (supported: %s)", opts.Driver, DriverSQLite)
	}
}

// readConns is the size of a SQLite file's read pool. In WAL mode readers neither wait for the
// writer nor block it; a few are enough for the API and the lookups of a registration burst on
// the small machines an nvr runs on, and each holds its own page cache.
const readConns = 4

// openSQLite opens a SQLite database with one writer connection and, for a file, a read-only
// pool beside it.
//
// SQLite lets one connection write at a time. With several writer connections in a pool, the
// others wait in SQLite's busy handler, which polls with sleeps of up to 100 ms instead of
// queueing, and give up with "database is locked" after busy_timeout: under a burst of 5,000
// registrations that lost devices (docs/perf-gb28181.md). One writer connection, with writes
// queued in Go (DB.write), never sees SQLITE_BUSY from another connection of this process.
func openSQLite(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	gdb, sqlDB, err := openGorm(sqlite.Open(sqliteDSN(dsn)), logger)
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(1)
	// Kept open for good: reopening costs a file open and the pragmas of sqliteDefaults.
	sqlDB.SetMaxIdleConns(1)
	db := &DB{gorm: gdb, sql: sqlDB, read: gdb, wlock: make(chan struct{}, 1)}
	if err := migrate(ctx, sqlDB, migrations.FS, logger); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	// Every connection to an in-memory database opens a different, empty database, so that one
	// connection has to serve the reads too.
	if !isSQLiteMemory(dsn) {
		// Opened after the migrations, which put the file in WAL mode, so that a reader never
		// sees a file without its tables.
		rdb, readSQL, err := openGorm(sqlite.Open(sqliteReadDSN(dsn)), logger)
		if err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
		readSQL.SetMaxOpenConns(readConns)
		readSQL.SetMaxIdleConns(readConns)
		db.read, db.readSQL = rdb, readSQL
	}
	if err := db.startKeepalives(ctx, logger); err != nil {
		_ = db.closePools()
		return nil, err
	}
	return db, nil
}

// openGorm opens one gorm handle and its pool.
func openGorm(dialector gorm.Dialector, logger *slog.Logger) (*gorm.DB, *sql.DB, error) {
	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger: newGormLogger(logger),
		// Turns driver-specific unique violations into gorm.ErrDuplicatedKey, which we map to
		// device.ErrConflict without parsing error strings per dialect.
		TranslateError: true,
		// Stored times are UTC so that rows written by hosts in different zones compare and sort.
		NowFunc: func() time.Time { return time.Now().UTC() },
		// A single INSERT, UPDATE or DELETE is atomic by itself; gorm's default BEGIN/COMMIT
		// around each one only adds two statements to the writer's queue. Writes of several
		// statements use explicit transactions.
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open %s database: %w", dialector.Name(), err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open %s database: %w", dialector.Name(), err)
	}
	return gdb, sqlDB, nil
}

// writing runs fn with the writer's handle once it is this caller's turn to write (write).
func (db *DB) writing(ctx context.Context, fn func(w *gorm.DB) error) error {
	release, err := db.write(ctx)
	if err != nil {
		return err
	}
	defer release()
	return fn(db.gorm.WithContext(ctx))
}

// transaction runs fn in a transaction of the writer once it is this caller's turn to write.
func (db *DB) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.writing(ctx, func(w *gorm.DB) error { return w.Transaction(fn) })
}

// write waits for the right to write: with a single writer (SQLite) writes queue here, in
// arrival order, rather than in the connection pool, so that the time a write waits is neither
// spent holding a connection nor logged as a slow query. Call the returned function when the
// write is done; ctx's end stops the wait.
func (db *DB) write(ctx context.Context) (release func(), err error) {
	if db.wlock == nil {
		return func() {}, nil
	}
	select {
	case db.wlock <- struct{}{}:
		return func() { <-db.wlock }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close writes the queued keepalives and closes the database; the DB must not be used
// afterwards.
func (db *DB) Close() error {
	err := db.stopKeepalives()
	return errors.Join(err, db.closePools())
}

func (db *DB) closePools() error {
	var err error
	if db.readSQL != nil {
		err = db.readSQL.Close()
	}
	return errors.Join(db.sql.Close(), err)
}

// Ping checks that the database is reachable, for health checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	if db.readSQL != nil {
		if err := db.readSQL.PingContext(ctx); err != nil {
			return fmt.Errorf("storage: ping read pool: %w", err)
		}
	}
	return nil
}
