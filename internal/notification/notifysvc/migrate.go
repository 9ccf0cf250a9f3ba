package notifysvc

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/schemastate"
)

// versionTable is the notification schema's version table, as an operator
// names it to repair a dirty schema.
const versionTable = notifypg.Schema + ".schema_migrations"

// MigrationStatus reads the notification schema's migration state at
// databaseURL; it returns the error of reading the embedded migrations or
// the version table.
func MigrationStatus(ctx context.Context, databaseURL string) (schemastate.State, error) {
	versions, err := notifypg.Migrations()
	if err != nil {
		return schemastate.State{}, err
	}
	v, dirty, err := notifypg.MigrateVersion(ctx, databaseURL)
	if err != nil {
		return schemastate.State{}, err
	}
	return schemastate.Of(notifypg.Schema, versionTable, versions, v, dirty), nil
}

// CheckClean returns a *schemastate.DirtyError if the notification schema
// at databaseURL is dirty, the error of reading its state, else nil.
func CheckClean(ctx context.Context, databaseURL string) error {
	st, err := MigrationStatus(ctx, databaseURL)
	if err != nil {
		return err
	}
	return st.Clean()
}

// MigrateUp creates the notification schema at databaseURL if needed and
// applies its pending migrations, River's included. It refuses a dirty
// schema (a *schemastate.DirtyError) before changing anything; else it
// returns the migration's error.
func MigrateUp(ctx context.Context, databaseURL string) error {
	if err := CheckClean(ctx, databaseURL); err != nil {
		return err
	}
	return notifypg.Migrate(ctx, databaseURL)
}
