package invoicingsvc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

// Migrations is the state of the invoicing schema's migrations in one
// database.
type Migrations struct {
	Version uint // the version applied, 0 for none
	Dirty   bool // the migration of Version failed half-way
	Latest  uint // the latest version this binary embeds
	Pending int  // the embedded migrations not applied
}

// MigrationStatus reads the invoicing schema's migration state at
// databaseURL; it returns the error of reading the embedded migrations or
// the version table.
func MigrationStatus(databaseURL string) (Migrations, error) {
	versions, err := invoicingpg.Migrations()
	if err != nil {
		return Migrations{}, err
	}
	v, dirty, err := invoicingpg.MigrateVersion(databaseURL)
	if err != nil {
		return Migrations{}, err
	}
	m := Migrations{Version: v, Dirty: dirty, Latest: versions[len(versions)-1]}
	for _, version := range versions {
		if version > v {
			m.Pending++
		}
	}
	return m, nil
}

// MigrateUp applies every pending migration of the invoicing schema at
// databaseURL. It refuses a dirty schema (a *DirtyError) before changing
// anything; else it returns the migration's error.
func MigrateUp(databaseURL string) error {
	if err := CheckClean(databaseURL); err != nil {
		return err
	}
	return invoicingpg.MigrateUp(databaseURL)
}

// CheckClean returns a *DirtyError if the invoicing schema at databaseURL
// is dirty, the error of reading its version, else nil.
func CheckClean(databaseURL string) error {
	v, dirty, err := invoicingpg.MigrateVersion(databaseURL)
	if err == nil && dirty {
		return &DirtyError{Version: v}
	}
	return err
}

// MigrateDownAll reverts every migration of the invoicing schema at
// databaseURL, back to version 0 (its data is lost). It refuses a dirty
// schema (a *DirtyError) before changing anything.
func MigrateDownAll(databaseURL string) error {
	if err := CheckClean(databaseURL); err != nil {
		return err
	}
	return invoicingpg.MigrateDown(databaseURL)
}

// MigrateDown reverts the last n migrations of the invoicing schema at
// databaseURL. It refuses, before changing anything, a dirty schema (a
// *DirtyError) and a count larger than the migrations applied; else it
// returns the migration's error.
func MigrateDown(databaseURL string, n int) error {
	versions, err := invoicingpg.Migrations()
	if err != nil {
		return err
	}
	v, dirty, err := invoicingpg.MigrateVersion(databaseURL)
	if err != nil {
		return err
	}
	if dirty {
		return &DirtyError{Version: v}
	}
	applied := 0
	for _, version := range versions {
		if version <= v {
			applied++
		}
	}
	if n > applied {
		return fmt.Errorf("migrate down %d: only %d migrations are applied (version %d); nothing was reverted", n, applied, v)
	}
	return invoicingpg.MigrateDownSteps(databaseURL, n)
}

// CreateDatabase creates the PostgreSQL database url names if it does not
// exist, and reports whether it created it: any database, the notification
// context's too when it has one of its own.
func CreateDatabase(ctx context.Context, url string) (created bool, err error) {
	return invoicingpg.CreateDatabase(ctx, url)
}

// DirtyError is the refusal of a schema whose migration Version failed
// half-way, by OpenDatabase and the migrations.
type DirtyError struct{ Version uint }

func (e *DirtyError) Error() string {
	return fmt.Sprintf("the schema is dirty at version %d (migration %d failed half-way)", e.Version, e.Version)
}

// OpenDatabase connects to databaseURL with at most maxConns connections
// and refuses to run against a schema older than the version this binary
// embeds (an error saying to migrate), or dirty (a *DirtyError). A newer
// schema is run against, with a warning, as readiness accepts it: in a
// rolling deploy the next release migrates before this one's instances are
// replaced, and one of them that restarts meanwhile must come back
// (migrations keep the previous release working). It returns the pool and
// the version this binary embeds, which readiness keeps checking (Config's
// Schema).
func OpenDatabase(ctx context.Context, databaseURL string, maxConns int, logger *slog.Logger) (_ *pgxpool.Pool, schema uint, _ error) {
	want, err := invoicingpg.LatestMigration()
	if err != nil {
		return nil, 0, err
	}
	have, dirty, err := invoicingpg.MigrateVersion(databaseURL)
	if err != nil {
		return nil, 0, err
	}
	if dirty {
		return nil, 0, &DirtyError{Version: have}
	}
	if have > want {
		logger.Warn("database schema is newer than this binary's latest migration: a later release migrated it; running as during a rolling deploy, replace this binary with that release",
			"schema_version", have, "binary_version", want)
	}
	if have < want {
		return nil, 0, fmt.Errorf("database schema is at version %d, this binary needs %d: run `invoicing migrate up`", have, want)
	}
	pool, err := invoicingpg.Connect(ctx, databaseURL, invoicingpg.MaxConns(maxConns))
	return pool, want, err
}
