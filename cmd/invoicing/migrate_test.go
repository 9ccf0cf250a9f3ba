package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/natstest"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
)

// schemaVersion returns the invoicing schema's version at dbURL.
func schemaVersion(t *testing.T, dbURL string) uint {
	t.Helper()
	v, dirty, err := invoicingpg.MigrateVersion(dbURL)
	if err != nil || dirty {
		t.Fatalf("MigrateVersion = %d, %t, %v", v, dirty, err)
	}
	return v
}

// execSQL runs sql on the database of dbURL, over a connection of its own:
// what a test does by hand to a schema or its rows.
func execSQL(t *testing.T, dbURL, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, sql, args...)
	if err := errors.Join(err, conn.Close(ctx)); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestMigrateDownRevertsOnlyWhatItIsTold: a bare `migrate down` used to
// revert every migration; it now refuses, as do a count that is not one
// and a count larger than what is applied, and changes nothing. A count
// reverts that many, --all every one.
func TestMigrateDownRevertsOnlyWhatItIsTold(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	versions, err := invoicingpg.Migrations()
	if err != nil || len(versions) < 3 {
		t.Fatalf("Migrations() = %v, %v; the test needs 3", versions, err)
	}
	latest := versions[len(versions)-1]

	for _, args := range [][]string{{"down"}, {"down", "0"}, {"down", "-1"}, {"down", "two"}, {"down", "1", "2"}} {
		err := run(ctx, append([]string{"migrate"}, args...), getenv, &strings.Builder{})
		if !errors.Is(err, errUsage) {
			t.Errorf("migrate %s: %v, want a usage error", strings.Join(args, " "), err)
		}
		if v := schemaVersion(t, dbURL); v != latest {
			t.Fatalf("migrate %s left the schema at version %d, want %d (untouched)", strings.Join(args, " "), v, latest)
		}
	}
	err = run(ctx, []string{"migrate", "down", fmt.Sprint(len(versions) + 1)}, getenv, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "nothing was reverted") {
		t.Errorf("migrate down %d: %v, want a refusal", len(versions)+1, err)
	}
	if v := schemaVersion(t, dbURL); v != latest {
		t.Fatalf("a refused migrate down left version %d, want %d", v, latest)
	}

	var out strings.Builder
	if err := run(ctx, []string{"migrate", "down", "2"}, getenv, &out); err != nil {
		t.Fatalf("migrate down 2: %v", err)
	}
	if v, want := schemaVersion(t, dbURL), versions[len(versions)-3]; v != want {
		t.Fatalf("migrate down 2: version %d, want %d", v, want)
	}
	if want := fmt.Sprintf("schema version %d (dirty: false)\n", versions[len(versions)-3]); out.String() != want {
		t.Errorf("migrate down 2 printed %q, want %q", out.String(), want)
	}
	if err := run(ctx, []string{"migrate", "down", "--all"}, getenv, &strings.Builder{}); err != nil {
		t.Fatalf("migrate down --all: %v", err)
	}
	if v := schemaVersion(t, dbURL); v != 0 {
		t.Fatalf("migrate down --all: version %d, want 0", v)
	}
}

// TestMigrateStatus shows both schemas, up to date, then pending after a
// partial revert and with the notification schema gone.
func TestMigrateStatus(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	inv, err := invoicingpg.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	not, err := notifypg.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		t.Helper()
		var out strings.Builder
		if err := run(ctx, []string{"migrate", "status"}, getenv, &out); err != nil {
			t.Fatalf("migrate status: %v", err)
		}
		return out.String()
	}
	// The template pgtest copies has the invoicing schema only: migrate up
	// adds the notification one.
	if err := run(ctx, []string{"migrate", "up"}, getenv, &strings.Builder{}); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	row := func(name string, v uint, latest uint, pending int) string {
		return fmt.Sprintf("%-12s  %-7d  %-5t  %-6d  %d\n", name, v, false, latest, pending)
	}
	iLatest, nLatest := inv[len(inv)-1], not[len(not)-1]
	want := "SCHEMA        VERSION  DIRTY  LATEST  PENDING\n" + row("invoicing", iLatest, iLatest, 0) +
		row("notification", nLatest, nLatest, 0) + "up to date\n"
	if got := status(); got != want {
		t.Errorf("migrate status, migrated:\n%s\nwant:\n%s", got, want)
	}

	if err := run(ctx, []string{"migrate", "down", "2"}, getenv, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	execSQL(t, dbURL, "DROP SCHEMA "+notifypg.Schema+" CASCADE")
	got := status()
	for _, w := range []string{row("invoicing", inv[len(inv)-3], iLatest, 2), row("notification", 0, nLatest, len(not)), "run `invoicing migrate up`"} {
		if !strings.Contains(got, w) {
			t.Errorf("migrate status, 2 invoicing and every notification migration pending, lacks %q:\n%s", w, got)
		}
	}
	// status changed nothing: no notification schema appeared.
	if got2 := status(); got2 != got {
		t.Errorf("a second migrate status differs:\n%s\nfirst:\n%s", got2, got)
	}
}

// missingURL returns dbURL with its database replaced by one that does not
// exist, and that database's name.
func missingURL(t *testing.T, dbURL string) (string, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_missing"
	u.Path = "/" + name
	return u.String(), name
}

// TestMissingDatabaseSaysWhichCreatedbToRun: every command that opens the
// database names the missing one and the createdb that creates it, instead
// of the driver's "3D000".
func TestMissingDatabaseSaysWhichCreatedbToRun(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	missing, name := missingURL(t, dbURL)
	want := fmt.Sprintf("database %q does not exist: run `%s`", name, pgurl.CreatedbCommand(missing, name))
	ctx := context.Background()
	for _, args := range [][]string{
		{"migrate", "up"}, {"migrate", "status"}, {"migrate", "version"}, {"migrate", "down", "1"},
		{"serve"}, {"relay"}, {"notify"}, {"notify", "failed"}, {"apikey", "create", "--tenant", "acme"}, {"outbox", "failed"},
	} {
		getenv := env(map[string]string{"DATABASE_URL": missing, "HTTP_ADDR": "127.0.0.1:0"})
		err := run(ctx, args, getenv, &strings.Builder{})
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "3D000") || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Errorf("invoicing %s on a missing database: %v\nwant: %s…", strings.Join(args, " "), err, want)
		}
	}
	// The notification context's own database.
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "NOTIFY_DATABASE_URL": missing})
	err := run(ctx, []string{"migrate", "status"}, getenv, &strings.Builder{})
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "NOTIFY_DATABASE_URL") {
		t.Errorf("migrate status with NOTIFY_DATABASE_URL missing: %v, want %s… naming NOTIFY_DATABASE_URL", err, want)
	}
}

// TestMigrateAndServeTakeAPoolSetting: DATABASE_URL may carry pgxpool's
// settings (pool_max_conns, as the README's table says); the migrations,
// which open plain connections, must not send them to the server as
// run-time parameters, which PostgreSQL refuses ("unrecognized
// configuration parameter"), nor may serve's schema check.
func TestMigrateAndServeTakeAPoolSetting(t *testing.T) {
	dbURL := pgtest.NewURL(t) + "&pool_max_conns=5&pool_max_conn_lifetime=1h"
	if !strings.Contains(dbURL, "?") {
		t.Fatalf("pgtest URL %s has no query; the test appends with &", dbURL)
	}
	getenv := env(map[string]string{"DATABASE_URL": dbURL})
	ctx := context.Background()
	for _, args := range [][]string{{"up"}, {"status"}, {"version"}, {"down", "1"}, {"up"}} {
		if err := run(ctx, append([]string{"migrate"}, args...), getenv, &strings.Builder{}); err != nil {
			t.Errorf("migrate %s with pool settings in DATABASE_URL: %v", strings.Join(args, " "), err)
		}
	}
	startServe(t, map[string]string{"DATABASE_URL": dbURL})
}

// TestDirtySchemaSaysHowToRepair: on a schema a failed migration left dirty,
// migrate up and down --all, which golang-migrate refuses with "Fix and
// force version" (there is no force command), and serve, which said to run
// migrate up, tell how to clear the flag, as migrate down N does, and
// change nothing.
func TestDirtySchemaSaysHowToRepair(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0"})
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "up"}, getenv, &strings.Builder{}); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	latest := schemaVersion(t, dbURL)
	execSQL(t, dbURL, "UPDATE schema_migrations SET dirty = true")
	for _, args := range [][]string{{"migrate", "up"}, {"migrate", "down", "--all"}, {"migrate", "down", "1"}, {"serve"}, {"relay"}} {
		err := run(ctx, args, getenv, &strings.Builder{})
		if err == nil || strings.Contains(err.Error(), "force") || !strings.Contains(err.Error(), "UPDATE schema_migrations SET dirty = false") {
			t.Errorf("invoicing %s on a dirty schema: %v\nwant how to clear the flag", strings.Join(args, " "), err)
		}
	}
	if v, dirty, err := invoicingpg.MigrateVersion(dbURL); v != latest || !dirty || err != nil {
		t.Errorf("after the refusals: version %d, dirty %t, %v; want %d, dirty, untouched", v, dirty, err, latest)
	}
}

// TestDirtyNotificationSchemaSaysHowToRepair: the same for the
// notification schema, whose flag lives in its own version table.
func TestDirtyNotificationSchemaSaysHowToRepair(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0"})
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "up"}, getenv, &strings.Builder{}); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	execSQL(t, dbURL, "UPDATE notification.schema_migrations SET dirty = true")
	for _, args := range [][]string{{"migrate", "up"}, {"notify"}, {"notify", "failed"}} {
		err := run(ctx, args, getenv, &strings.Builder{})
		if err == nil || strings.Contains(err.Error(), "force") || !strings.Contains(err.Error(), "UPDATE notification.schema_migrations SET dirty = false") {
			t.Errorf("invoicing %s on a dirty notification schema: %v\nwant how to clear the flag", strings.Join(args, " "), err)
		}
	}
}

// TestNewerSchemaRunsWithAWarning: serve and relay against a schema a later
// release migrated start, warning, as readiness accepts that schema (a
// rolling deploy migrates before it replaces the old instances); and
// migrate status does not call that schema up to date.
func TestNewerSchemaRunsWithAWarning(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0"})
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "up"}, getenv, &strings.Builder{}); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	latest := schemaVersion(t, dbURL)
	execSQL(t, dbURL, "UPDATE schema_migrations SET version = $1", latest+1)
	// serve and relay run on it, warning, as readiness accepts it: an
	// instance of the previous release that restarts during a rolling
	// deploy must come back.
	natsURL := natstest.New(t).URL()
	for _, cmd := range []string{"serve", "relay"} {
		logs := &syncBuffer{}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- run(cctx, []string{cmd}, env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "NATS_URL": natsURL}), logs)
		}()
		waitListening(t, logs, done)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s on a schema at version %d, this binary's latest %d: %v", cmd, latest+1, latest, err)
		}
		if !strings.Contains(logs.String(), "database schema is newer") {
			t.Errorf("%s on a newer schema logged no warning:\n%s", cmd, logs.String())
		}
	}
	var out strings.Builder
	if err := run(ctx, []string{"migrate", "status"}, getenv, &out); err != nil || strings.Contains(out.String(), "up to date") || !strings.Contains(out.String(), "newer") {
		t.Errorf("migrate status on a newer schema: %v\n%s\nwant it to say the schema is newer, not up to date", err, out.String())
	}
}
