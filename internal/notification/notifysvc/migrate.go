package notifysvc

import (
	"context"
	"fmt"

	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// Migrations is the state of the notification schema's migrations in one
// database.
type Migrations struct {
	Version uint // the version applied, 0 for none
	Dirty   bool // the migration of Version failed half-way
	Latest  uint // the latest version this binary embeds
	Pending int  // the embedded migrations not applied
}

// MigrationStatus reads the notification schema's migration state at
// databaseURL; it returns the error of reading the embedded migrations or
// the version table.
func MigrationStatus(ctx context.Context, databaseURL string) (Migrations, error) {
	versions, err := notifypg.Migrations()
	if err != nil {
		return Migrations{}, err
	}
	v, dirty, err := notifypg.MigrateVersion(ctx, databaseURL)
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

// DirtyError is the refusal of a notification schema whose migration
// Version failed half-way.
type DirtyError struct{ Version uint }

func (e *DirtyError) Error() string {
	return fmt.Sprintf("the notification schema is dirty at version %d (migration %d failed half-way)", e.Version, e.Version)
}

// CheckClean returns a *DirtyError if the notification schema at
// databaseURL is dirty, the error of reading its version, else nil.
func CheckClean(ctx context.Context, databaseURL string) error {
	v, dirty, err := notifypg.MigrateVersion(ctx, databaseURL)
	if err == nil && dirty {
		return &DirtyError{Version: v}
	}
	return err
}

// MigrateUp creates the notification schema at databaseURL if needed and
// applies its pending migrations, River's included. It refuses a dirty
// schema (a *DirtyError) before changing anything; else it returns the
// migration's error.
func MigrateUp(ctx context.Context, databaseURL string) error {
	if err := CheckClean(ctx, databaseURL); err != nil {
		return err
	}
	return notifypg.Migrate(ctx, databaseURL)
}
