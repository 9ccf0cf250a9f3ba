package invoicingpg_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/migrations"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// Migration 000007 converts a response stored as status, headers and body
// into the one value the HTTP layer frames (internal/invoicing/invoicinghttp/idempotency.go),
// so a retry of a request answered before the upgrade still replays.
func TestMigration7FramesStoredResponses(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	runMigrationFile(t, pool, "000007_idempotency_opaque_response.down.sql")
	_, err := pool.Exec(ctx, `INSERT INTO tenants (id, name) VALUES ('0190f7a8-0000-7000-8000-000000000001', 'acme');
		INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, headers, body) VALUES
		('0190f7a8-0000-7000-8000-000000000001', 'k1', '\x01', 201,
		 '{"ETag": "\"1\"", "Location": "/v1/invoices/x", "Content-Type": "application/json"}', convert_to(E'{"a":\n\n1}', 'UTF8')),
		('0190f7a8-0000-7000-8000-000000000001', 'k2', '\x02', 200, '{}', '')`)
	if err != nil {
		t.Fatal(err)
	}
	runMigrationFile(t, pool, "000007_idempotency_opaque_response.up.sql")

	want := map[string]string{
		"k1": "201\nContent-Type: application/json\nETag: \"1\"\nLocation: /v1/invoices/x\n\n{\"a\":\n\n1}",
		"k2": "200\n\n",
	}
	rows, err := pool.Query(ctx, `SELECT key, response FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var key string
		var response []byte
		if err := rows.Scan(&key, &response); err != nil {
			t.Fatal(err)
		}
		n++
		if string(response) != want[key] {
			t.Errorf("%s: response %q, want %q", key, response, want[key])
		}
	}
	if err := rows.Err(); err != nil || n != 2 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// Migration 000010 keeps the framed answers stored before it, which the
// HTTP layer still replays; going back drops the results stored since,
// which only the HTTP layer can frame.
func TestMigration10KeepsTheAnswersStoredBefore(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	const tenant = `INSERT INTO tenants (id, name) VALUES ('0190f7a8-0000-7000-8000-000000000001', 'acme')`
	if _, err := pool.Exec(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, resource_kind, resource_id, resource_version, resource_view)
		VALUES ('0190f7a8-0000-7000-8000-000000000001', 'result', '\x01', 'invoice', '0190f7a8-0000-7000-8000-000000000002', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	runMigrationFile(t, pool, "000010_idempotency_result.down.sql")
	if _, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response)
		VALUES ('0190f7a8-0000-7000-8000-000000000001', 'framed', '\x02', convert_to(E'200\n\n{}', 'UTF8'))`); err != nil {
		t.Fatal(err)
	}
	runMigrationFile(t, pool, "000010_idempotency_result.up.sql")

	var keys []string
	var response []byte
	var kind *string
	rows, err := pool.Query(ctx, `SELECT key, response, resource_kind FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		if err := rows.Scan(&key, &response, &kind); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil || len(keys) != 1 || keys[0] != "framed" || string(response) != "200\n\n{}" || kind != nil {
		t.Fatalf("keys %q (%v), the last with response %q and kind %v; want the framed one alone, as stored", keys, err, response, kind)
	}
}

// runMigrationFile runs one embedded migration file as is, outside the
// migrator, so a test can place rows between a down and an up.
func runMigrationFile(t *testing.T, pool *pgxpool.Pool, name string) {
	t.Helper()
	sql, err := fs.ReadFile(migrations.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), string(sql)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
