package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// migrate runs "migrate up|down N|down --all|status|version" against
// DATABASE_URL. "up" also applies the notification context's migrations, to
// NOTIFY_DATABASE_URL (its schema `notification`, its own version table);
// "down" leaves them. "down" reverts nothing unless told how far: a step
// count, or --all for every migration.
func migrate(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: migrate takes one of up, down N, down --all, status, version", errUsage)
	}
	switch {
	case args[0] == "up" && len(args) == 1:
		if err := refuseDirty(cfg, "migrating"); err != nil {
			return err
		}
		// Both schemas are checked before either is migrated.
		if v, dirty, err := notifypg.MigrateVersion(ctx, cfg.notifyDatabaseURL()); err != nil {
			return err
		} else if dirty {
			return dirtySchema("notification.schema_migrations", v, "migrating")
		}
		if err := invoicingpg.MigrateUp(cfg.DatabaseURL); err != nil {
			return err
		}
		if err := notifypg.Migrate(ctx, cfg.notifyDatabaseURL()); err != nil {
			return err
		}
	case args[0] == "down":
		if err := migrateDown(cfg, args[1:]); err != nil {
			return err
		}
	case args[0] == "status" && len(args) == 1:
		return migrateStatus(ctx, cfg, stdout)
	case args[0] == "version" && len(args) == 1:
	default:
		return fmt.Errorf("%w: migrate takes one of up, down N, down --all, status, version, not %q", errUsage, strings.Join(args, " "))
	}
	v, dirty, err := invoicingpg.MigrateVersion(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "schema version %d (dirty: %t)\n", v, dirty)
	return err
}

// migrateDown runs "migrate down N" (the last N migrations) or "migrate down
// --all" (every one, back to version 0). It refuses a missing or invalid
// count, and a count larger than the migrations applied, before changing
// anything.
func migrateDown(cfg config, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: migrate down needs how many migrations to revert: migrate down N (e.g. 1), or migrate down --all for every one", errUsage)
	}
	n, err := strconv.Atoi(args[0])
	if args[0] != "--all" && (err != nil || n < 1) {
		return fmt.Errorf("%w: migrate down %q: want a count of migrations from 1, or --all", errUsage, args[0])
	}
	if err := refuseDirty(cfg, "reverting"); err != nil {
		return err
	}
	if args[0] == "--all" {
		return invoicingpg.MigrateDown(cfg.DatabaseURL)
	}
	versions, err := invoicingpg.Migrations()
	if err != nil {
		return err
	}
	v, _, err := invoicingpg.MigrateVersion(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if applied := len(appliedOf(versions, v)); n > applied {
		return fmt.Errorf("migrate down %d: only %d migrations are applied (version %d); nothing was reverted", n, applied, v)
	}
	return invoicingpg.MigrateDownSteps(cfg.DatabaseURL, n)
}

// refuseDirty returns dirtySchema's error if the invoicing schema is dirty,
// an error if its version cannot be read, else nil.
func refuseDirty(cfg config, before string) error {
	v, dirty, err := invoicingpg.MigrateVersion(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if dirty {
		return dirtySchema("schema_migrations", v, before)
	}
	return nil
}

// dirtySchema is the refusal of a command that finds a schema dirty at
// version v in its version table, saying how to repair it before doing what
// before names: golang-migrate's own "Fix and force version" names a
// command this binary does not have, and migrate up fails the same way.
func dirtySchema(table string, v uint, before string) error {
	schema := "the schema"
	if t, ok := strings.CutSuffix(table, ".schema_migrations"); ok {
		schema = "the " + t + " schema"
	}
	return fmt.Errorf("%s is dirty at version %d (migration %d failed half-way): finish it by hand (or undo it and set version to the one before), and clear the flag (UPDATE %s SET dirty = false) before %s", schema, v, v, table, before)
}

// appliedOf returns the versions up to v: those a database at version v has
// applied.
func appliedOf(versions []uint, v uint) []uint {
	var out []uint
	for _, m := range versions {
		if m <= v {
			out = append(out, m)
		}
	}
	return out
}

// migrateStatus prints, for the invoicing schema (DATABASE_URL) and the
// notification schema (NOTIFY_DATABASE_URL), the version applied, whether it
// is dirty, the latest version this binary embeds and how many are pending.
func migrateStatus(ctx context.Context, cfg config, stdout io.Writer) error {
	invVersions, err := invoicingpg.Migrations()
	if err != nil {
		return err
	}
	invV, invDirty, err := invoicingpg.MigrateVersion(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	notVersions, err := notifypg.Migrations()
	if err != nil {
		return err
	}
	notV, notDirty, err := notifypg.MigrateVersion(ctx, cfg.notifyDatabaseURL())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEMA\tVERSION\tDIRTY\tLATEST\tPENDING")
	pending := 0
	var newer []string
	for _, s := range []struct {
		name     string
		v        uint
		dirty    bool
		versions []uint
	}{
		{"invoicing", invV, invDirty, invVersions},
		{"notification", notV, notDirty, notVersions},
	} {
		p := len(s.versions) - len(appliedOf(s.versions, s.v))
		pending += p
		latest := s.versions[len(s.versions)-1]
		if s.v > latest {
			newer = append(newer, s.name)
		}
		fmt.Fprintf(tw, "%s\t%d\t%t\t%d\t%d\n", s.name, s.v, s.dirty, latest, p)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case len(newer) > 0:
		_, err = fmt.Fprintf(stdout, "the %s schema is newer than this binary's latest migration: a later release migrated it; run that release\n", strings.Join(newer, " and "))
	case pending > 0 || invDirty || notDirty:
		_, err = fmt.Fprintln(stdout, "run `invoicing migrate up` to apply the pending migrations (a dirty schema needs repair first)")
	default:
		_, err = fmt.Fprintln(stdout, "up to date")
	}
	return err
}
