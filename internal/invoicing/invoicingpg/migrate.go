package invoicingpg

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

	"github.com/invoicing-dev/invoicing/internal/invoicing/migrations"
)

// MigrateUp applies every migration of migrations.FS not yet applied to the
// database at url. Having nothing to apply is not an error. It returns an
// error if the database cannot be reached, is dirty, or a migration fails.
func MigrateUp(url string) error {
	return withMigrate(url, "up", func(m *migrate.Migrate) error { return m.Up() })
}

// MigrateDown reverts every applied migration of the database at url. Having
// nothing to revert is not an error. It returns an error if the database
// cannot be reached, is dirty, or a migration fails.
func MigrateDown(url string) error {
	return withMigrate(url, "down", func(m *migrate.Migrate) error { return m.Down() })
}

// MigrateDownSteps reverts the last n applied migrations of the database at
// url (n >= 1). It returns an error if the database cannot be reached, is
// dirty, a migration fails, or fewer than n migrations were applied (those
// that were are then reverted: check the version first).
func MigrateDownSteps(url string, n int) error {
	if n < 1 {
		return fmt.Errorf("postgres: migrate down: %d steps, want at least 1", n)
	}
	return withMigrate(url, "down", func(m *migrate.Migrate) error { return m.Steps(-n) })
}

// MigrateVersion returns the version of the last migration applied to the
// database at url and whether it failed half-way (dirty); 0, false, nil when
// none has been applied. It returns an error if the database cannot be read.
func MigrateVersion(url string) (version uint, dirty bool, err error) {
	err = withMigrate(url, "version", func(m *migrate.Migrate) error {
		var verr error
		version, dirty, verr = m.Version()
		if errors.Is(verr, migrate.ErrNilVersion) {
			version, dirty, verr = 0, false, nil
		}
		return verr
	})
	return version, dirty, err
}

// SchemaVersion is MigrateVersion in one query on pool, cheap enough for a
// readiness probe: it reads golang-migrate's schema_migrations table, which
// holds one row. It returns 0, false, nil for a database never migrated
// (no row), and an error if the query fails (e.g. no such table).
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (version uint, dirty bool, err error) {
	var v int64
	err = pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: read schema version: %w", err)
	}
	return uint(max(v, 0)), dirty, nil
}

// LatestMigration returns the highest migration version in migrations.FS, the
// version a fully migrated database reports. It returns an error if the
// embedded files cannot be read or none is a migration.
func LatestMigration() (uint, error) {
	versions, err := Migrations()
	if err != nil {
		return 0, err
	}
	return versions[len(versions)-1], nil
}

// Migrations returns the versions of the migrations in migrations.FS, in
// ascending order. It returns an error if the embedded files cannot be read
// or none is a migration.
func Migrations() ([]uint, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("postgres: read migrations: %w", err)
	}
	var versions []uint
	for _, e := range entries {
		m, err := source.DefaultParse(e.Name())
		if err != nil {
			continue // not a migration file (embed.go is not embedded, but be lenient)
		}
		if !slices.Contains(versions, m.Version) { // its up and its down file
			versions = append(versions, m.Version)
		}
	}
	if len(versions) == 0 {
		return nil, errors.New("postgres: no migrations embedded")
	}
	slices.Sort(versions)
	return versions, nil
}

// withMigrate opens a migrator on migrations.FS and the database at dbURL,
// runs fn and closes both, returning fn's error (ErrNoChange dropped) joined
// with any close error.
func withMigrate(dbURL, op string, fn func(*migrate.Migrate) error) (err error) {
	murl, err := migrateURL(dbURL)
	if err != nil {
		return err
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return fmt.Errorf("postgres: migrate %s: open migrations: %w", op, err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, murl)
	if err != nil {
		return errors.Join(
			fmt.Errorf("postgres: migrate %s: open %s: %w", op, redact(dbURL), err),
			src.Close())
	}
	defer func() {
		srcErr, dbErr := m.Close()
		err = errors.Join(err, srcErr, dbErr)
	}()
	if err := fn(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("postgres: migrate %s %s: %w", op, redact(dbURL), err)
	}
	return nil
}

// migrateURL turns a postgres:// or postgresql:// URL into the pgx5:// URL
// under which golang-migrate's pgx v5 driver is registered.
func migrateURL(dbURL string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("postgres: migrate: parse database URL %s", redact(dbURL))
	}
	switch u.Scheme {
	case "postgres", "postgresql", "pgx5":
	default:
		return "", fmt.Errorf("postgres: migrate: database URL %s: scheme must be postgres://", redact(dbURL))
	}
	u.Scheme = "pgx5"
	u.RawQuery = withoutPoolSettings(u.Query()).Encode()
	return u.String(), nil
}

// withoutPoolSettings returns q without pgxpool's settings (pool_max_conns,
// pool_max_conn_lifetime, ...). A DATABASE_URL may carry them for the pool;
// golang-migrate opens plain connections, which would send them to the
// server as run-time parameters, and PostgreSQL refuses the connection
// ("unrecognized configuration parameter").
func withoutPoolSettings(q url.Values) url.Values {
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	return q
}
