package invoicingpg_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

func TestOutboxBacklogCountsUnpublishedAndParkedAndDatesTheOldest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)

	b, err := o.Backlog(ctx)
	if err != nil || b != (relay.Backlog{}) {
		t.Fatalf("Backlog of an empty outbox = %+v, %v; want zero", b, err)
	}

	published := insertOutboxRow(t, pool, uuid.New(), 1)
	waitReadable(t, pool)
	if err := o.MarkPublished(ctx, []int64{published}); err != nil {
		t.Fatal(err)
	}
	agg := uuid.New()
	first := insertOutboxRow(t, pool, agg, 1)
	if _, err := pool.Exec(ctx, `UPDATE outbox SET occurred_at = now() - interval '90 seconds' WHERE sequence = $1`, first); err != nil {
		t.Fatal(err)
	}
	second := insertOutboxRow(t, pool, agg, 2)
	insertOutboxRow(t, pool, uuid.New(), 1)
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: second, Err: "too large", Park: true}}); err != nil {
		t.Fatal(err)
	}

	b, err = o.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Unpublished != 3 || b.Parked != 1 {
		t.Errorf("Backlog = %+v, want 3 unpublished of which 1 parked", b)
	}
	if age := time.Since(b.Oldest); age < 85*time.Second || age > 2*time.Minute {
		t.Errorf("oldest unpublished event is %s old, want about 90s", age)
	}
}

// TestOutboxBacklogReadsOnlyTheSmallIndexes guards the cost of a scrape: the
// plan must start at the relay's position, never scan the table.
func TestOutboxBacklogReadsOnlyTheSmallIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	// Enough published rows that a sequential scan would be the wrong plan.
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{}', now()
FROM generate_series(1, 20000)`); err != nil {
		t.Fatal(err)
	}
	publishAll(t, invoicingpg.NewOutbox(pool), pool)
	if _, err := pool.Exec(ctx, `ANALYZE outbox`); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `EXPLAIN `+invoicingpg.BacklogSQL)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// outbox_held is small by design: scanning it is the right plan.
	if text := strings.Join(plan, "\n"); strings.Contains(text, "Seq Scan on outbox ") {
		t.Fatalf("the backlog query scans the table:\n%s", text)
	}
}

func TestSchemaVersionIsTheLatestMigration(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	want, err := invoicingpg.LatestMigration()
	if err != nil {
		t.Fatal(err)
	}
	have, dirty, err := invoicingpg.SchemaVersion(context.Background(), pool)
	if err != nil || dirty || have != want {
		t.Fatalf("SchemaVersion = %d, %v, %v; want %d, false, nil", have, dirty, err, want)
	}
}

func TestMaxConnsCapsThePool(t *testing.T) {
	t.Parallel()
	pool, err := invoicingpg.Connect(context.Background(), pgtest.NewURL(t), invoicingpg.MaxConns(3))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if got := pool.Stat().MaxConns(); got != 3 {
		t.Fatalf("MaxConns = %d, want 3", got)
	}
}

// TestTheRequestTraceIsStoredWithEveryEvent: Add and Update store the trace
// ctx carries with each event they write; without one, nothing.
func TestTheRequestTraceIsStoredWithEveryEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	trace := outbox.Trace{CorrelationID: "req-1", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "a=1"}
	inv, err := invoice.New(invoice.NewID(), e.tenant, "EUR", invoice.Customer{Name: "Ada", Email: "ada@example.com"},
		time.Time{}, []invoice.LineInput{{Description: "x", Quantity: 1, UnitAmount: 100}}, microClock{}.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.repo.Add(app.WithTrace(ctx, trace), inv, app.ChangeOptions{}, app.Result{}); err != nil {
		t.Fatal(err)
	}
	second := outbox.Trace{CorrelationID: "req-2"}
	_, err = e.repo.Update(app.WithTrace(ctx, second), e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		return app.Result{}, inv.Issue("INV-1", microClock{}.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.repo.Update(ctx, e.tenant, inv.ID(), app.ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ app.Tx) (app.Result, error) {
		return app.Result{}, inv.Void("wrong customer", microClock{}.Now())
	})
	if err != nil {
		t.Fatal(err)
	}

	waitReadable(t, e.pool)
	recs, _, err := invoicingpg.NewOutbox(e.pool).Pending(ctx, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []outbox.Trace{trace, second, {}}
	if len(recs) != len(want) {
		t.Fatalf("%d pending records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if got := r.Trace; got != want[i] {
			t.Errorf("record %d (%s) carries %+v, want %+v", i, r.Type, got, want[i])
		}
	}
	history, err := invoicingpg.NewEvents(e.pool).History(ctx, e.tenant, inv.ID(), app.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range history.Events {
		if h.Trace != want[i] {
			t.Errorf("history %d (%s) carries %+v, want %+v", i, h.Type, h.Trace, want[i])
		}
	}
}
