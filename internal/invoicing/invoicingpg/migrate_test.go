package invoicingpg_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/migrations"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

func TestMigrateDownThenUpAgain(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	latest, err := invoicingpg.LatestMigration()
	if err != nil {
		t.Fatal(err)
	}
	assertVersion := func(want uint) {
		t.Helper()
		v, dirty, err := invoicingpg.MigrateVersion(url)
		if err != nil || dirty || v != want {
			t.Fatalf("MigrateVersion = %d, %v, %v; want %d, false, nil", v, dirty, err, want)
		}
	}
	tables := func() int {
		t.Helper()
		pool, err := invoicingpg.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var n int
		err = pool.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables
			WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	assertVersion(latest)
	want := tables()
	if err := invoicingpg.MigrateUp(url); err != nil {
		t.Fatalf("MigrateUp with nothing to do: %v", err)
	}
	if err := invoicingpg.MigrateDown(url); err != nil {
		t.Fatalf("MigrateDown: %v", err)
	}
	assertVersion(0)
	if n := tables(); n != 0 {
		t.Fatalf("%d tables left after MigrateDown", n)
	}
	if err := invoicingpg.MigrateDown(url); err != nil {
		t.Fatalf("MigrateDown with nothing to do: %v", err)
	}
	if err := invoicingpg.MigrateUp(url); err != nil {
		t.Fatalf("MigrateUp again: %v", err)
	}
	assertVersion(latest)
	if n := tables(); n != want || n == 0 {
		t.Fatalf("%d tables after migrating up again, want %d", n, want)
	}
}

func TestLatestMigrationIsTheHighestFile(t *testing.T) {
	t.Parallel()
	latest, err := invoicingpg.LatestMigration()
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no up migrations: %v", err)
	}
	var want uint
	for _, name := range names {
		var v uint
		for _, c := range name[:strings.IndexByte(name, '_')] {
			v = v*10 + uint(c-'0')
		}
		want = max(want, v)
	}
	if latest != want {
		t.Fatalf("LatestMigration = %d, want %d", latest, want)
	}
}

func TestMigrateRejectsOtherSchemes(t *testing.T) {
	t.Parallel()
	if err := invoicingpg.MigrateUp("mysql://root:s3cret@localhost/db"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("MigrateUp of a mysql URL: %v; want an error without the password", err)
	}
}

func TestConnectErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://invoicing:s3cret@127.0.0.1:1/invoicing?sslmode=disable&connect_timeout=2",
		"postgres://invoicing@127.0.0.1:1/invoicing?sslmode=disable&password=s3cret&connect_timeout=2",
		"postgres://invoicing:s3cret@127.0.0.1:1/invoicing?sslmode=bogus",
	} {
		_, err := invoicingpg.Connect(context.Background(), url)
		if err == nil {
			t.Fatalf("Connect(%s) succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("Connect error leaks the password: %v", err)
		}
		t.Log(err)
	}
}
