package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
	"github.com/invoicing-dev/invoicing/internal/schemastate"
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
		err := invoicingsvc.CheckClean(inv)
		if err == nil {
			err = notifysvc.CheckClean(ctx, not)
		}
		if err == nil {
			err = invoicingsvc.MigrateUp(inv)
		}
		if err == nil {
			err = notifysvc.MigrateUp(ctx, not)
		}
		if err != nil {
			return schemastate.Before(err, "migrating")
		}
	case args[0] == "down":
		err := invoicingsvc.MigrateDown(inv, args[1:])
		if u := (*invoicingsvc.UsageError)(nil); errors.As(err, &u) {
			return fmt.Errorf("%w: %v", errUsage, u)
		} else if err != nil {
			return schemastate.Before(err, "reverting")
		}
	case args[0] == "status" && len(args) == 1:
		i, err := invoicingsvc.MigrationStatus(inv)
		if err != nil {
			return err
		}
		n, err := notifysvc.MigrationStatus(ctx, not)
		if err != nil {
			return err
		}
		return schemastate.WriteStatus(stdout, i, n)
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
