package invoicingpg

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var _ app.APIKeys = (*APIKeys)(nil)

// createKeySQL upserts the tenant and stores the key in one statement, hence
// one implicit transaction. DO UPDATE (a no-op write) rather than DO NOTHING
// makes RETURNING yield the existing tenant's id, and when two requests create
// the same tenant at once the second waits for the first and then sees its
// row, where a separate SELECT could miss a row not yet committed.
const createKeySQL = `WITH t AS (
    INSERT INTO tenants (id, name) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
    RETURNING id
)
INSERT INTO api_keys (key_hash, tenant_id) SELECT $3, t.id FROM t
RETURNING tenant_id`

const tenantByKeySQL = `SELECT tenant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`

// APIKeys stores API keys (as hashes) and the tenants they belong to.
type APIKeys struct {
	pool *pgxpool.Pool
}

// NewAPIKeys returns an APIKeys on pool.
func NewAPIKeys(pool *pgxpool.Pool) *APIKeys { return &APIKeys{pool: pool} }

// Create stores hash as a key of the tenant named tenantName, creating the
// tenant (with a new UUIDv7) if there is none by that name, and returns the
// tenant's id. It returns database errors wrapped; nothing is stored then.
func (k *APIKeys) Create(ctx context.Context, tenantName string, hash []byte) (_ kernel.TenantID, err error) {
	defer markUnavailable(&err)
	newID, err := uuid.NewV7()
	if err != nil {
		return kernel.TenantID{}, fmt.Errorf("postgres: create API key: new tenant id: %w", err)
	}
	var tenant [16]byte
	if err := k.pool.QueryRow(ctx, createKeySQL, [16]byte(newID), tenantName, hash).Scan(&tenant); err != nil {
		return kernel.TenantID{}, fmt.Errorf("postgres: create API key: %w", err)
	}
	return kernel.TenantID(tenant), nil
}

// Tenant returns the tenant owning the unrevoked key with this hash. It
// returns app.ErrUnauthorized if there is none, and database errors wrapped.
func (k *APIKeys) Tenant(ctx context.Context, hash []byte) (_ kernel.TenantID, err error) {
	defer markUnavailable(&err)
	var tenant [16]byte
	if err := k.pool.QueryRow(ctx, tenantByKeySQL, hash).Scan(&tenant); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return kernel.TenantID{}, app.ErrUnauthorized
		}
		return kernel.TenantID{}, fmt.Errorf("postgres: look up API key: %w", err)
	}
	return kernel.TenantID(tenant), nil
}

// TenantExists reports whether a tenant named name exists. It returns
// database errors wrapped.
func (k *APIKeys) TenantExists(ctx context.Context, name string) (_ bool, err error) {
	defer markUnavailable(&err)
	var ok bool
	if err := k.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE name = $1)`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: look up tenant: %w", err)
	}
	return ok, nil
}
