package notifypg

import (
	"context"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// TestWebhookEventsMigrationMovesBodies: migrating up stores each event's
// body once from its deliveries; migrating down gives every delivery its
// body back.
func TestWebhookEventsMigrationMovesBodies(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	to := func(v uint) {
		t.Helper()
		if err := withMigrate(dbURL, func(m *migrate.Migrate) error { return m.Migrate(v) }); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE SCHEMA ` + Schema)
	to(2)
	exec(`INSERT INTO notification.webhook_endpoints (id, tenant_id, url, enabled_events, secret) VALUES
		('019ad1c2-0000-7000-8000-00000000000a', 'acme', 'https://a.example', '{*}', 's'),
		('019ad1c2-0000-7000-8000-00000000000b', 'acme', 'https://b.example', '{*}', 's');
		INSERT INTO notification.webhook_deliveries (id, endpoint_id, event_id, event_type, event_time, body) VALUES
		('019ad1c2-0000-7000-8000-000000000001', '019ad1c2-0000-7000-8000-00000000000a', 'e1', 't', now(), 'one'),
		('019ad1c2-0000-7000-8000-000000000002', '019ad1c2-0000-7000-8000-00000000000b', 'e1', 't', now(), 'one'),
		('019ad1c2-0000-7000-8000-000000000003', '019ad1c2-0000-7000-8000-00000000000a', 'e2', 't', now(), 'two')`)
	to(3)
	var got string
	if err := pool.QueryRow(ctx, `SELECT string_agg(id || '=' || convert_from(body, 'UTF8'), ',' ORDER BY id) FROM notification.webhook_events`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "e1=one,e2=two" {
		t.Errorf("webhook_events after up: %s, want e1=one,e2=two", got)
	}
	to(2)
	if err := pool.QueryRow(ctx, `SELECT string_agg(event_id || '=' || convert_from(body, 'UTF8'), ',' ORDER BY id) FROM notification.webhook_deliveries`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "e1=one,e1=one,e2=two" {
		t.Errorf("deliveries after down: %s, want e1=one,e1=one,e2=two", got)
	}
}
