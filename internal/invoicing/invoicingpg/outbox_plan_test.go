package invoicingpg_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
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

// TestPendingDoesNotRevisitPublishedRows: marking a row published leaves a
// dead entry in the index of unpublished rows until vacuum. The relay's
// read must pay for each such entry once, not on every read, or a busy
// outbox slows every batch (see pendingPlan). The outbox here has no
// statistics, as in a new database or wherever autovacuum is off (as on
// this project's CI machine): that is when the planner prefers a bitmap
// scan, which revisits them all.
func TestPendingDoesNotRevisitPublishedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{"invoice_id": "x"}', now()
FROM generate_series(1, 20000)`); err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	if err := pool.QueryRow(ctx, `SELECT array_agg(sequence) FROM outbox WHERE published_at IS NULL`).Scan(&seqs); err != nil {
		t.Fatal(err)
	}
	if err := o.MarkPublished(ctx, seqs); err != nil {
		t.Fatal(err)
	}
	live := insertOutboxRow(t, pool, uuid.New(), 1)

	first := explainPending(t, pool)
	first.walk(func(n planNode) {
		if n.NodeType == "Bitmap Heap Scan" {
			t.Fatalf("the relay's read uses a bitmap scan, which revisits every published row's page on every read")
		}
	})
	// An entry is flagged once no transaction can still see its row, which
	// the server may establish only a moment later while other databases
	// are busy (as under `go test ./...`): later reads get a few seconds.
	touched := func(n planNode) int { return n.SharedHit + n.SharedRead }
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		later := explainPending(t, pool)
		if touched(later)*4 <= touched(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("reads 5s later still touched %d pages, the first %d; want them to skip the 20,000 published rows the first met",
				touched(later), touched(first))
			break
		}
	}
	if got := pendingSeqs(t, o); len(got) != 1 || got[0] != live {
		t.Errorf("Pending = %v, want only %d", got, live)
	}
}

// TestPendingStaysFastWithABacklogTheStatisticsMissed: statistics are taken
// while the relay keeps up, when almost nothing is unpublished. When a
// backlog then builds up (a NATS outage, a burst), the read must still cost
// about the batch it returns. It once checked each candidate for an earlier
// held row of its invoice by scanning the whole backlog, 500 times per read:
// 220,000 buffer accesses and 0.8 s with 20,000 rows waiting, so the relay
// fell further behind the longer the backlog lasted.
func TestPendingStaysFastWithABacklogTheStatisticsMissed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	const insert = `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at, published_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{"invoice_id": "x"}', now(), $1
FROM generate_series(1, 20000)`
	if _, err := pool.Exec(ctx, insert, "now"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE outbox`); err != nil { // all published: the relay keeps up
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, insert, nil); err != nil { // then 20,000 wait
		t.Fatal(err)
	}
	// A read of 500 rows touches a few pages per row; the old plan touched
	// 11 per waiting row per candidate.
	if plan := explainPending(t, pool); plan.SharedHit+plan.SharedRead > 5000 {
		t.Errorf("reading a batch of 500 from a backlog of 20,000 touched %d pages, want at most 5,000",
			plan.SharedHit+plan.SharedRead)
	}
}
