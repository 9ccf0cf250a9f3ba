package notifysvc

import (
	"context"

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
