package invoicingsvc

import (
	"fmt"

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
