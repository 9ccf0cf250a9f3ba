package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// outbox failed shows the oldest 1,000 parked events and says how many
// there are in all, not that the 1,000 shown are all.
func TestOutboxFailedCountsEveryParkedEvent(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	getenv := env(map[string]string{"DATABASE_URL": dbURL})
	if err := run(ctx, []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	execSQL(t, dbURL, `WITH e AS (INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{"invoice_id": "x"}', now()
FROM generate_series(1, 1003) RETURNING sequence, aggregate_id, txid)
INSERT INTO outbox_held (sequence, aggregate_id, txid, attempts, last_error, failed_at)
SELECT sequence, aggregate_id, txid, 10, 'refused', now() FROM e`)
	var out strings.Builder
	if err := run(ctx, []string{"outbox", "failed"}, getenv, &out); err != nil {
		t.Fatalf("outbox failed: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; len(lines) != 1002 || last != "1003 parked events, the oldest 1000 shown" {
		t.Errorf("outbox failed printed %d lines ending %q; want a header, 1000 events and \"1003 parked events, the oldest 1000 shown\"", len(lines), last)
	}
}
