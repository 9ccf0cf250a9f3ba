package app_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

type countingKeys struct {
	tenant  kernel.TenantID
	err     error
	lookups int
}

func (k *countingKeys) Create(context.Context, string, []byte) (kernel.TenantID, error) {
	return k.tenant, nil
}

func (k *countingKeys) Tenant(context.Context, []byte) (kernel.TenantID, error) {
	k.lookups++
	return k.tenant, k.err
}

type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

func TestCachedAPIKeys(t *testing.T) {
	ctx := context.Background()
	store := &countingKeys{tenant: kernel.TenantID{1}}
	clock := &fixedClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	keys := app.NewCachedAPIKeys(store, 30*time.Second, clock)
	hash := app.HashAPIKey("inv_a")

	for range 3 {
		if got, err := keys.Tenant(ctx, hash); err != nil || got != store.tenant {
			t.Fatalf("Tenant = %v, %v", got, err)
		}
	}
	if store.lookups != 1 {
		t.Fatalf("lookups within the TTL = %d, want 1", store.lookups)
	}

	// Revoked: answered from memory until the TTL runs out, then refused.
	store.err = app.ErrUnauthorized
	clock.now = clock.now.Add(29 * time.Second)
	if _, err := keys.Tenant(ctx, hash); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	clock.now = clock.now.Add(time.Second)
	for range 2 {
		if _, err := keys.Tenant(ctx, hash); !errors.Is(err, app.ErrUnauthorized) {
			t.Fatalf("after the TTL: %v, want ErrUnauthorized", err)
		}
	}
	if store.lookups != 3 {
		t.Fatalf("lookups = %d, want 3: refusals are not cached", store.lookups)
	}
}

func TestCachedAPIKeysBounded(t *testing.T) {
	ctx := context.Background()
	store := &countingKeys{tenant: kernel.TenantID{1}}
	keys := app.NewCachedAPIKeys(store, time.Hour, &fixedClock{now: time.Unix(0, 0)})
	for i := range 25_000 {
		if _, err := keys.Tenant(ctx, app.HashAPIKey("inv_"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := keys.Len(); n > 10_000 {
		t.Fatalf("cache holds %d keys, want at most 10,000", n)
	}
}
