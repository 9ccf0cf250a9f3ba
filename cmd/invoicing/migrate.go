package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
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
	inv, not := cfg.Invoicing.DatabaseURL, cfg.Notify.DatabaseURL
	switch {
	case args[0] == "up" && len(args) == 1:
		// Both schemas are checked before either is migrated.
		if err := invoicingsvc.CheckClean(inv); err != nil {
			return repairable(err, "migrating")
		}
		if err := notifysvc.CheckClean(ctx, not); err != nil {
			return repairable(err, "migrating")
		}
		if err := invoicingsvc.MigrateUp(inv); err != nil {
			return repairable(err, "migrating")
		}
		if err := notifysvc.MigrateUp(ctx, not); err != nil {
			return repairable(err, "migrating")
		}
	case args[0] == "down":
		if err := migrateDown(inv, args[1:]); err != nil {
			return repairable(err, "reverting")
		}
	case args[0] == "status" && len(args) == 1:
		return migrateStatus(ctx, cfg, stdout)
	case args[0] == "version" && len(args) == 1:
	default:
		return fmt.Errorf("%w: migrate takes one of up, down N, down --all, status, version, not %q", errUsage, strings.Join(args, " "))
	}
	st, err := invoicingsvc.MigrationStatus(inv)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "schema version %d (dirty: %t)\n", st.Version, st.Dirty)
	return err
}

// migrateDown runs "migrate down N" (the last N migrations) or "migrate down
// --all" (every one, back to version 0) on the invoicing schema at url. It
// refuses a missing or invalid count before changing anything.
func migrateDown(url string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: migrate down needs how many migrations to revert: migrate down N (e.g. 1), or migrate down --all for every one", errUsage)
	}
	if args[0] == "--all" {
		return invoicingsvc.MigrateDownAll(url)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return fmt.Errorf("%w: migrate down %q: want a count of migrations from 1, or --all", errUsage, args[0])
	}
	return invoicingsvc.MigrateDown(url, n)
}

// repairable completes a schema's refusal as dirty (of the first schema
// err names) with dirtySchema's repair, before doing what before names;
// it returns any other error unchanged.
func repairable(err error, before string) error {
	if d := (*invoicingsvc.DirtyError)(nil); errors.As(err, &d) {
		return dirtySchema("schema_migrations", d.Version, before)
	}
	if d := (*notifysvc.DirtyError)(nil); errors.As(err, &d) {
		return dirtySchema("notification.schema_migrations", d.Version, before)
	}
	return err
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

// migrateStatus prints, for the invoicing schema (DATABASE_URL) and the
// notification schema (NOTIFY_DATABASE_URL), the version applied, whether it
// is dirty, the latest version this binary embeds and how many are pending.
func migrateStatus(ctx context.Context, cfg config, stdout io.Writer) error {
	inv, err := invoicingsvc.MigrationStatus(cfg.Invoicing.DatabaseURL)
	if err != nil {
		return err
	}
	not, err := notifysvc.MigrationStatus(ctx, cfg.Notify.DatabaseURL)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEMA\tVERSION\tDIRTY\tLATEST\tPENDING")
	pending := 0
	var newer []string
	for _, s := range []struct {
		name      string
		v, latest uint
		dirty     bool
		pending   int
	}{
		{"invoicing", inv.Version, inv.Latest, inv.Dirty, inv.Pending},
		{"notification", not.Version, not.Latest, not.Dirty, not.Pending},
	} {
		pending += s.pending
		if s.v > s.latest {
			newer = append(newer, s.name)
		}
		fmt.Fprintf(tw, "%s\t%d\t%t\t%d\t%d\n", s.name, s.v, s.dirty, s.latest, s.pending)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case len(newer) > 0:
		_, err = fmt.Fprintf(stdout, "the %s schema is newer than this binary's latest migration: a later release migrated it; run that release\n", strings.Join(newer, " and "))
	case pending > 0 || inv.Dirty || not.Dirty:
		_, err = fmt.Fprintln(stdout, "run `invoicing migrate up` to apply the pending migrations (a dirty schema needs repair first)")
	default:
		_, err = fmt.Fprintln(stdout, "up to date")
	}
	return err
}
