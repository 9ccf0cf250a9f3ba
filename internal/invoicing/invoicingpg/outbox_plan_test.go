package invoicingpg_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// planNode is the part of an EXPLAIN (FORMAT JSON) node the test reads.
type planNode struct {
	NodeType   string     `json:"Node Type"`
	SharedHit  int        `json:"Shared Hit Blocks"`
	SharedRead int        `json:"Shared Read Blocks"`
	Plans      []planNode `json:"Plans"`
}

// explainPending runs one relay read of 500 records, as Pending plans it,
// under EXPLAIN (ANALYZE, BUFFERS) and returns its top plan node.
func explainPending(t *testing.T, pool *pgxpool.Pool) planNode {
	t.Helper()
	out, err := invoicingpg.ExplainPending(context.Background(), pool, 500)
	return topNode(t, out, err)
}

// topNode returns the top node of the EXPLAIN (FORMAT JSON) output out, or
// fails the test if explaining returned err.
func topNode(t *testing.T, out []byte, err error) planNode {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	return plans[0].Plan
}

// walk calls fn on n and every node below it.
func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// publishAll moves the relay's position past every row of the outbox.
func publishAll(t *testing.T, o *invoicingpg.Outbox, pool *pgxpool.Pool) {
	t.Helper()
	waitReadable(t, pool)
	var seqs []int64
	if err := pool.QueryRow(context.Background(), `SELECT array_agg(sequence) FROM outbox`).Scan(&seqs); err != nil {
		t.Fatal(err)
	}
	if err := o.MarkPublished(context.Background(), seqs); err != nil {
		t.Fatal(err)
	}
}

// touched returns the buffers a plan node accessed.
func touched(n planNode) int { return n.SharedHit + n.SharedRead }

// TestPendingSkipsPublishedRows: the relay's read starts at its position,
// so the published rows the outbox retains cost it nothing, whether or not
// the table has statistics.
func TestPendingSkipsPublishedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{"invoice_id": "x"}', now()
FROM generate_series(1, 20000)`); err != nil {
		t.Fatal(err)
	}
	publishAll(t, o, pool)
	live := insertOutboxRow(t, pool, uuid.New(), 1)
	waitReadable(t, pool)
	if plan := explainPending(t, pool); touched(plan) > 100 {
		t.Errorf("a read past 20,000 published rows touched %d pages, want at most 100", touched(plan))
	}
	if got := pendingSeqs(t, o, pool); len(got) != 1 || got[0] != live {
		t.Errorf("Pending = %v, want only %d", got, live)
	}
}

// TestPendingStaysFastWithABacklogTheStatisticsMissed: statistics are taken
// while the relay keeps up, when almost nothing is unpublished. When a
// backlog then builds up (a NATS outage, a burst), the read must still cost
// about the batch it returns, with an invoice held or without.
func TestPendingStaysFastWithABacklogTheStatisticsMissed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	const insert = `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{"invoice_id": "x"}', now()
FROM generate_series(1, 20000)`
	if _, err := pool.Exec(ctx, insert); err != nil {
		t.Fatal(err)
	}
	publishAll(t, o, pool)
	if _, err := pool.Exec(ctx, `ANALYZE outbox`); err != nil { // all published: the relay keeps up
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, insert); err != nil { // then 20,000 wait
		t.Fatal(err)
	}
	waitReadable(t, pool)
	// A read of 500 rows touches a few pages per row.
	if plan := explainPending(t, pool); touched(plan) > 5000 {
		t.Errorf("reading a batch of 500 from a backlog of 20,000 touched %d pages, want at most 5,000", touched(plan))
	}
	held := insertOutboxRow(t, pool, uuid.New(), 1)
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: held, Err: "x", Park: true}}); err != nil {
		t.Fatal(err)
	}
	if plan := explainPending(t, pool); touched(plan) > 5000 {
		t.Errorf("with an invoice held, reading a batch of 500 from a backlog of 20,000 touched %d pages, want at most 5,000",
			touched(plan))
	}
}

// TestPruneStaysFastWithABacklog: the prune runs while events wait (a NATS
// outage, a relay that just started on a full outbox). It deletes only rows
// below the position, so it must stop where they end, not walk on through
// every row waiting above it.
func TestPruneStaysFastWithABacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{"invoice_id": "x"}', now() - interval '30 days'
FROM generate_series(1, 20000)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE outbox`); err != nil {
		t.Fatal(err)
	}
	out, err := invoicingpg.ExplainPrune(ctx, pool, time.Now(), 500)
	if plan := topNode(t, out, err); touched(plan) > 100 {
		t.Errorf("a prune with nothing published and 20,000 rows waiting touched %d pages, want at most 100", touched(plan))
	}
}
