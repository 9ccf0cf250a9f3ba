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

// MigrateDown reverts the last n migrations of the invoicing schema at
// databaseURL. It refuses, before changing anything, a count larger than
// the migrations applied; else it returns the migration's error.
func MigrateDown(databaseURL string, n int) error {
	versions, err := invoicingpg.Migrations()
	if err != nil {
		return err
	}
	v, _, err := invoicingpg.MigrateVersion(databaseURL)
	if err != nil {
		return err
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

// DirtyError is OpenDatabase's refusal of a schema whose migration Version
// failed half-way.
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
