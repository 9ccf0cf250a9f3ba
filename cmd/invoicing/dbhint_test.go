package main

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestUnmigratedDatabaseSaysMigrateUp: every command that reads the
// invoicing tables, run on a database with no schema yet, says to run
// `invoicing migrate up` instead of showing PostgreSQL's "relation does
// not exist", and overdue prints no result for a run that did nothing.
func TestUnmigratedDatabaseSaysMigrateUp(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0"})
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "down", "--all"}, getenv, &strings.Builder{}); err != nil {
		t.Fatalf("migrate down --all: %v", err)
	}
	for _, args := range [][]string{
		{"apikey", "create", "--tenant", "acme"}, {"outbox", "failed"}, {"outbox", "retry", "--all"}, {"overdue"}, {"notify", "failed"},
	} {
		var out strings.Builder
		err := run(ctx, args, getenv, &out)
		if err == nil || !strings.Contains(err.Error(), "run `invoicing migrate up`") || strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("invoicing %s on an unmigrated database: %v, want one line saying run `invoicing migrate up`", strings.Join(args, " "), err)
		}
		if out.Len() != 0 {
			t.Errorf("invoicing %s on an unmigrated database printed %q before failing", strings.Join(args, " "), out.String())
		}
	}
}

// TestUnreachableDatabaseSaysWhereAndWhatToCheck: with nothing listening at
// DATABASE_URL's address, or a role the server does not know, serve and
// migrate status fail with one line naming the address or the role and the
// variable, not the driver's chain ("migrate version: open ...: failed to
// open database: ...").
func TestUnreachableDatabaseSaysWhereAndWhatToCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String() // a loopback port where nothing listens
	ln.Close()
	refused := "postgres://postgres@" + closed + "/invoicing?sslmode=disable"
	ctx := context.Background()
	for _, args := range [][]string{{"serve"}, {"migrate", "status"}, {"apikey", "create", "--tenant", "acme"}} {
		getenv := env(map[string]string{"DATABASE_URL": refused, "HTTP_ADDR": "127.0.0.1:0"})
		err := run(ctx, args, getenv, &strings.Builder{})
		checkOneLine(t, args, err, "cannot reach PostgreSQL at "+closed+" (DATABASE_URL)")
	}

	if testing.Short() {
		t.Skip("the refused role needs PostgreSQL: skipped in -short mode")
	}
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User("no_such_role_here")
	for _, args := range [][]string{{"serve"}, {"migrate", "status"}} {
		getenv := env(map[string]string{"DATABASE_URL": u.String(), "HTTP_ADDR": "127.0.0.1:0"})
		err := run(ctx, args, getenv, &strings.Builder{})
		checkOneLine(t, args, err, `refused role "no_such_role_here" (DATABASE_URL)`)
	}
}

// checkOneLine fails t unless err is one line holding want and none of the
// driver's or migrate's words.
func checkOneLine(t *testing.T, args []string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") ||
		strings.Contains(err.Error(), "migrate version") || strings.Contains(err.Error(), "failed to connect") {
		t.Errorf("invoicing %s: %v\nwant one line with: %s", strings.Join(args, " "), err, want)
	}
}
