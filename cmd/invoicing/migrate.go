package main

import (
	"context"
	"fmt"
	"io"

	"github.com/invoicing-dev/invoicing/internal/infra/postgres"
	notifypg "github.com/invoicing-dev/invoicing/internal/notification/postgres"
)

// migrate runs "migrate up|down|version" against DATABASE_URL. "up" also
// applies the notification context's migrations, to NOTIFY_DATABASE_URL
// (its schema `notification`, its own version table); "down" leaves them.
func migrate(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: migrate takes one of up, down, version", errUsage)
	}
	switch args[0] {
	case "up":
		if err := postgres.MigrateUp(cfg.DatabaseURL); err != nil {
			return err
		}
		if err := notifypg.Migrate(ctx, cfg.notifyDatabaseURL()); err != nil {
			return err
		}
	case "down":
		if err := postgres.MigrateDown(cfg.DatabaseURL); err != nil {
			return err
		}
	case "version":
	default:
		return fmt.Errorf("%w: migrate takes one of up, down, version, not %q", errUsage, args[0])
	}
	v, dirty, err := postgres.MigrateVersion(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "schema version %d (dirty: %t)\n", v, dirty)
	return err
}
