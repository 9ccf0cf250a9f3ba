package invoicingsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/schemastate"
)

// MigrationStatus reads the invoicing schema's migration state at
// databaseURL, its version table golang-migrate's default; it returns the
// error of reading the embedded migrations or the version table.
func MigrationStatus(databaseURL string) (schemastate.State, error) {
	versions, err := invoicingpg.Migrations()
	if err != nil {
		return schemastate.State{}, err
	}
	v, dirty, err := invoicingpg.MigrateVersion(databaseURL)
	if err != nil {
		return schemastate.State{}, err
	}
	return schemastate.Of("invoicing", "schema_migrations", versions, v, dirty), nil
}

// CheckClean returns a *schemastate.DirtyError if the invoicing schema at
// databaseURL is dirty, the error of reading its state, else nil.
func CheckClean(databaseURL string) error {
	st, err := MigrationStatus(databaseURL)
	if err != nil {
		return err
	}
	return st.Clean()
}

// MigrateUp applies every pending migration of the invoicing schema at
// databaseURL. It refuses a dirty schema (a *schemastate.DirtyError) before
// changing anything; else it returns the migration's error.
func MigrateUp(databaseURL string) error {
	if err := CheckClean(databaseURL); err != nil {
		return err
	}
	return invoicingpg.MigrateUp(databaseURL)
}

// MigrateDown runs the words after "migrate down" on the invoicing schema
// at databaseURL: "N" reverts the last N migrations, "--all" every one,
// back to version 0 (its data is lost). It refuses, before changing
// anything, other words (a *UsageError), a dirty schema (a
// *schemastate.DirtyError) and a count larger than the migrations applied;
// else it returns the migration's error.
func MigrateDown(databaseURL string, args []string) error {
	if len(args) != 1 {
		return &UsageError{"migrate down needs how many migrations to revert: migrate down N (e.g. 1), or migrate down --all for every one"}
	}
	n, err := strconv.Atoi(args[0])
	if args[0] != "--all" && (err != nil || n < 1) {
		return &UsageError{fmt.Sprintf("migrate down %q: want a count of migrations from 1, or --all", args[0])}
	}
	st, err := MigrationStatus(databaseURL)
	if err != nil {
		return err
	}
	if err := st.Clean(); err != nil {
		return err
	}
	if args[0] == "--all" {
		return invoicingpg.MigrateDown(databaseURL)
	}
	versions, err := invoicingpg.Migrations()
	if err != nil {
		return err
	}
	if applied := len(versions) - st.Pending; n > applied {
		return fmt.Errorf("migrate down %d: only %d migrations are applied (version %d); nothing was reverted", n, applied, st.Version)
	}
	return invoicingpg.MigrateDownSteps(databaseURL, n)
}

// CreateDatabase creates the PostgreSQL database url names if it does not
// exist, and reports whether it created it: any database, the notification
// context's too when it has one of its own.
func CreateDatabase(ctx context.Context, url string) (created bool, err error) {
	return invoicingpg.CreateDatabase(ctx, url)
}

// OpenDatabase connects to databaseURL with at most maxConns connections
// and refuses to run against a schema older than the version this binary
// embeds (an error saying to migrate), or dirty (saying how to repair it).
// A newer schema is run against, with a warning, as readiness accepts it
// (see schemastate.State.Check). It returns the pool and the version this
// binary embeds, which readiness keeps checking (Config's Schema).
func OpenDatabase(ctx context.Context, databaseURL string, maxConns int, logger *slog.Logger) (_ *pgxpool.Pool, schema uint, _ error) {
	st, err := MigrationStatus(databaseURL)
	if err != nil {
		return nil, 0, err
	}
	if err := st.Check(); err != nil {
		if v := (*schemastate.VersionError)(nil); errors.As(err, &v) {
			return nil, 0, fmt.Errorf("database schema is %w", v)
		}
		return nil, 0, schemastate.Before(err, "starting")
	}
	if st.Newer() {
		logger.Warn("database schema is newer than this binary's latest migration: a later release migrated it; running as during a rolling deploy, replace this binary with that release",
			"schema_version", st.Version, "binary_version", st.Latest)
	}
	pool, err := invoicingpg.Connect(ctx, databaseURL, invoicingpg.MaxConns(maxConns))
	return pool, st.Latest, err
}
