package invoicingpg_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// oldOutboxRow inserts a row into the outbox as it was before migration 11,
// with its marking, and returns its sequence.
func oldOutboxRow(t *testing.T, pool *pgxpool.Pool, agg uuid.UUID, version int64, state string) int64 {
	t.Helper()
	var seq int64
	err := pool.QueryRow(context.Background(), `INSERT INTO outbox
    (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at,
     published_at, attempts, last_error, next_attempt_at, failed_at)
SELECT gen_random_uuid(), gen_random_uuid(), $1, $2, 'invoice.paid', '{}', now(),
    CASE WHEN $3 = 'published' THEN now() END,
    CASE $3 WHEN 'retrying' THEN 2 WHEN 'parked' THEN 10 ELSE 0 END,
    CASE WHEN $3 IN ('retrying', 'parked') THEN 'refused' END,
    CASE WHEN $3 = 'retrying' THEN now() + interval '1 hour' END,
    CASE WHEN $3 = 'parked' THEN now() END
RETURNING sequence`, agg, version, state).Scan(&seq)
	if err != nil {
		t.Fatalf("insert %s outbox row: %v", state, err)
	}
	return seq
}

// Migration 11 takes an outbox with unpublished, retrying and parked rows to
// the append-only scheme without losing or re-ordering one: the relay then
// sends what was due, in each invoice's order, and holds back what was
// held; going down restores every row's marking.
func TestMigration11KeepsEveryUnpublishedEventInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	runMigrationFile(t, pool, "000011_outbox_watermark.down.sql")
	a, b, c, d := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	oldOutboxRow(t, pool, a, 1, "published")
	b1 := oldOutboxRow(t, pool, b, 1, "pending")
	c1 := oldOutboxRow(t, pool, c, 1, "retrying")
	c2 := oldOutboxRow(t, pool, c, 2, "pending")
	d1 := oldOutboxRow(t, pool, d, 1, "parked")
	a2 := oldOutboxRow(t, pool, a, 2, "pending")
	b2 := oldOutboxRow(t, pool, b, 2, "pending")
	waitReadable(t, pool)
	runMigrationFile(t, pool, "000011_outbox_watermark.up.sql")

	o := invoicingpg.NewOutbox(pool)
	if got, want := pendingSeqs(t, o, pool), []int64{b1, a2, b2}; !slices.Equal(got, want) {
		t.Errorf("Pending after the migration = %v, want %v (c held behind its retry, d parked)", got, want)
	}
	failed, err := o.ListFailed(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].Sequence != d1 || failed[0].Attempts != 10 || failed[0].LastError != "refused" {
		t.Errorf("ListFailed after the migration = %+v, want d1 with its 10 attempts", failed)
	}
	backlog, err := o.Backlog(ctx)
	if err != nil || backlog.Unpublished != 6 || backlog.Parked != 1 {
		t.Errorf("Backlog after the migration = %+v, %v; want 6 unpublished, 1 parked", backlog, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE outbox_held SET next_attempt_at = now() WHERE sequence = $1`, c1); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{b1, c1, c2, a2, b2}; !slices.Equal(got, want) {
		t.Errorf("Pending once c1 is due = %v, want %v", got, want)
	}

	if err := o.MarkPublished(ctx, []int64{b1}); err != nil {
		t.Fatal(err)
	}
	runMigrationFile(t, pool, "000011_outbox_watermark.down.sql")
	var unpublished []int64
	var parked, retrying int
	err = pool.QueryRow(ctx, `SELECT
    (SELECT array_agg(sequence ORDER BY sequence) FROM outbox WHERE published_at IS NULL),
    (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL AND attempts = 10),
    (SELECT count(*) FROM outbox WHERE next_attempt_at IS NOT NULL AND attempts = 2)`).Scan(&unpublished, &parked, &retrying)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{c1, c2, d1, a2, b2}; !slices.Equal(unpublished, want) || parked != 1 || retrying != 1 {
		t.Errorf("after going down: unpublished %v, %d parked, %d retrying; want %v, 1, 1", unpublished, parked, retrying, want)
	}
	runMigrationFile(t, pool, "000011_outbox_watermark.up.sql")
}
