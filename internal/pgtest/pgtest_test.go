package pgtest_test

import (
	"context"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

func TestNewGivesEachTestItsOwnMigratedDatabase(t *testing.T) {
	t.Parallel()
	latest, err := invoicingpg.LatestMigration()
	if err != nil {
		t.Fatal(err)
	}
	var names [2]string
	for i := range names {
		url := pgtest.NewURL(t)
		v, dirty, err := invoicingpg.MigrateVersion(url)
		if err != nil || dirty || v != latest {
			t.Fatalf("MigrateVersion = %d, %v, %v; want %d, false, nil", v, dirty, err, latest)
		}
		pool := pgtest.New(t)
		if err := pool.QueryRow(context.Background(), "SELECT current_database()").Scan(&names[i]); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM invoices").Scan(&n); err != nil {
			t.Fatalf("schema missing: %v", err)
		}
	}
	if names[0] == names[1] {
		t.Fatalf("two calls gave the same database %s", names[0])
	}
}
