package invoicingpg_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	keys := invoicingpg.NewAPIKeys(pgtest.New(t))
	ctx := context.Background()

	acme, err := keys.Create(ctx, "acme", hash("k1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := keys.Create(ctx, "acme", hash("k2"))
	if err != nil {
		t.Fatal(err)
	}
	if again != acme {
		t.Fatalf("second key for acme went to tenant %s, want %s", again, acme)
	}
	globex, err := keys.Create(ctx, "globex", hash("k3"))
	if err != nil || globex == acme {
		t.Fatalf("globex: %s, %v; want a tenant of its own", globex, err)
	}
	for key, want := range map[string]kernel.TenantID{"k1": acme, "k2": acme, "k3": globex} {
		if got, err := keys.Tenant(ctx, hash(key)); err != nil || got != want {
			t.Fatalf("Tenant(%s) = %s, %v; want %s", key, got, err, want)
		}
	}
	if _, err := keys.Tenant(ctx, hash("unknown")); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("unknown key: %v, want ErrUnauthorized", err)
	}
	if _, err := keys.Create(ctx, "acme", hash("k1")); err == nil {
		t.Fatal("storing the same key hash twice succeeded")
	}
	for name, want := range map[string]bool{"acme": true, "globex": true, "initech": false} {
		if got, err := keys.TenantExists(ctx, name); err != nil || got != want {
			t.Errorf("TenantExists(%s) = %t, %v; want %t", name, got, err, want)
		}
	}
}

func TestRevokedKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	keys := invoicingpg.NewAPIKeys(pool)
	ctx := context.Background()
	if _, err := keys.Create(ctx, "acme", hash("k1")); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE api_keys SET revoked_at = now()"); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Tenant(ctx, hash("k1")); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("revoked key: %v, want ErrUnauthorized", err)
	}
}

func TestConcurrentKeysForANewTenantShareIt(t *testing.T) {
	t.Parallel()
	keys := invoicingpg.NewAPIKeys(pgtest.New(t))
	const n = 10
	tenants := make([]kernel.TenantID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tenants[i], errs[i] = keys.Create(context.Background(), "newco", hash(string(rune('a'+i))))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || tenants[i] != tenants[0] {
			t.Fatalf("key %d: tenant %s, %v; want %s", i, tenants[i], errs[i], tenants[0])
		}
	}
}

func TestCreateDatabaseCreatesTheMissingOnceOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := pgtest.NewURL(t)
	u, err := url.Parse(home)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/") + "_created"
	u.Path = "/" + name
	pool := pgtest.New(t) // its own cleanup runs after this test's
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	for i, want := range []bool{true, false} {
		created, err := invoicingpg.CreateDatabase(ctx, u.String())
		if err != nil || created != want {
			t.Fatalf("CreateDatabase, call %d: %t, %v; want %t", i+1, created, err, want)
		}
	}
	if created, err := invoicingpg.CreateDatabase(ctx, home); err != nil || created {
		t.Errorf("CreateDatabase of an existing database: %t, %v; want false, nil", created, err)
	}
}
