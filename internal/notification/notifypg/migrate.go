// Package notifypg is the notification context's PostgreSQL adapter: its
// schema and migrations, the inbox that turns each event into tasks in one
// transaction, and the River queue that runs those tasks.
package notifypg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the "pgx5" database driver
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/invoicing-dev/invoicing/internal/notification/migrations"
)

// Schema is the PostgreSQL schema holding every table of the context, River's
// included. Nothing else in the database refers to it, so moving the context
// to its own database is a change of URL.
const Schema = "notification"

// versionTable is golang-migrate's table for this context, apart from the
// invoicing service's public.schema_migrations.
const versionTable = `"` + Schema + `"."schema_migrations"`

// Migrate creates the schema if needed and applies the context's migrations
// not yet applied, then River's (see docs/architecture.md for why River's
// tables are migrated by River's migrator). Having nothing to apply is not
// an error. It returns an error if the database cannot be reached or a
// migration fails.
func Migrate(ctx context.Context, dbURL string) error {
	conn, err := connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("notification: migrate: connect: %w", err)
	}
	// golang-migrate keeps its version table in the schema: it must exist
	// before the first migration can be recorded.
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema)
	err = errors.Join(err, conn.Close(ctx))
	if err != nil {
		return fmt.Errorf("notification: migrate: create schema: %w", err)
	}
	if err := withMigrate(dbURL, func(m *migrate.Migrate) error { return m.Up() }); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("notification: migrate river: %w", err)
	}
	defer pool.Close()
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: Schema})
	if err != nil {
		return fmt.Errorf("notification: migrate river: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("notification: migrate river: %w", err)
	}
	return nil
}

// LatestMigration returns the highest version among the context's embedded
// migrations. It returns an error if none can be read.
func LatestMigration() (uint, error) {
	versions, err := Migrations()
	if err != nil {
		return 0, err
	}
	return versions[len(versions)-1], nil
}

// Migrations returns the versions of the context's embedded migrations, in
// ascending order (River's are not among them). It returns an error if none
// can be read.
func Migrations() ([]uint, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("notification: read migrations: %w", err)
	}
	var versions []uint
	for _, e := range entries {
		if m, err := source.DefaultParse(e.Name()); err == nil && !slices.Contains(versions, m.Version) {
			versions = append(versions, m.Version)
		}
	}
	if len(versions) == 0 {
		return nil, errors.New("notification: no migrations embedded")
	}
	slices.Sort(versions)
	return versions, nil
}

// MigrateVersion returns the context's applied migration version in the
// database at dbURL and whether it is dirty, changing nothing: 0, false,
// nil while the schema or its version table does not exist yet. It returns
// an error if the database cannot be reached or read.
func MigrateVersion(ctx context.Context, dbURL string) (version uint, dirty bool, err error) {
	conn, err := connect(ctx, dbURL)
	if err != nil {
		return 0, false, fmt.Errorf("notification: migrate version: connect: %w", err)
	}
	defer func() { err = errors.Join(err, conn.Close(ctx)) }()
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1::text) IS NOT NULL`, versionTable).Scan(&exists); err != nil {
		return 0, false, fmt.Errorf("notification: migrate version: %w", err)
	}
	if !exists {
		return 0, false, nil
	}
	return readVersion(ctx, conn)
}

// SchemaVersion returns the context's applied migration version and whether
// it is dirty, in one query cheap enough for a readiness probe. It returns
// an error if the query fails (e.g. never migrated).
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (version uint, dirty bool, err error) {
	return readVersion(ctx, pool)
}

// readVersion reads the version table on db (a pool or a connection): 0,
// false, nil when it holds no row; an error if the query fails.
func readVersion(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (version uint, dirty bool, err error) {
	var v int64
	err = db.QueryRow(ctx, `SELECT version, dirty FROM `+versionTable+` LIMIT 1`).Scan(&v, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("notification: read schema version: %w", err)
	}
	return uint(max(v, 0)), dirty, nil
}

// withMigrate runs fn on a golang-migrate instance over the embedded
// migrations and the database at dbURL, with this context's version table.
func withMigrate(dbURL string, fn func(*migrate.Migrate) error) (err error) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("notification: migrate: the database URL must be a postgres:// URL")
	}
	u.Scheme = "pgx5"
	q := u.Query()
	// pgxpool's settings (pool_max_conns, ...) would reach the server as
	// run-time parameters, which it refuses: they are the pool's only.
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	q.Set("x-migrations-table", versionTable)
	q.Set("x-migrations-table-quoted", "1")
	u.RawQuery = q.Encode()
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return fmt.Errorf("notification: migrate: %w", err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, u.String())
	if err != nil {
		return errors.Join(fmt.Errorf("notification: migrate: open %s: %w", u.Redacted(), err), src.Close())
	}
	defer func() {
		srcErr, dbErr := m.Close()
		err = errors.Join(err, srcErr, dbErr)
	}()
	if err := fn(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("notification: migrate: %w", err)
	}
	return nil
}

// connect opens one connection to dbURL, which may carry pgxpool's settings
// (pool_max_conns, ...): pgxpool's parser takes them out, where pgx's would
// send them to the server as run-time parameters, which it refuses.
func connect(ctx context.Context, dbURL string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg.ConnConfig)
}
