package invoicingpg_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/kernel"
	"github.com/invoicing-dev/invoicing/internal/pgtest"
)

// insertOutboxRow inserts an outbox row as the repository would and returns its
// sequence.
func insertOutboxRow(t *testing.T, pool *pgxpool.Pool, agg uuid.UUID, version int64) int64 {
	t.Helper()
	var seq int64
	err := pool.QueryRow(context.Background(), `INSERT INTO outbox
    (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
VALUES ($1, $2, $3, $4, 'invoice.line_added', '{"n": 1}', now()) RETURNING sequence`,
		uuid.New(), uuid.New(), agg, version).Scan(&seq)
	if err != nil {
		t.Fatalf("insert outbox row: %v", err)
	}
	return seq
}

// waitReadable waits until every outbox row is readable by the relay: the
// relay reads only rows of transactions older than every running one on the
// server (other tests' too), so it polls, up to a deadline.
func waitReadable(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var ok bool
		err := pool.QueryRow(context.Background(), `SELECT coalesce(
    (SELECT max(txid) FROM outbox) < pg_snapshot_xmin(pg_current_snapshot()), true)`).Scan(&ok)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("outbox rows still not readable: a transaction on the server keeps running")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pendingSeqs waits until every committed row is below the xmin and
// returns the sequences of one read of up to 100 rows.
func pendingSeqs(t *testing.T, o *invoicingpg.Outbox, pool *pgxpool.Pool) []int64 {
	t.Helper()
	waitReadable(t, pool)
	return readSeqs(t, o, 100)
}

// readSeqs returns the sequences of one read of up to limit rows that
// leaves out skip.
func readSeqs(t *testing.T, o *invoicingpg.Outbox, limit int, skip ...int64) []int64 {
	t.Helper()
	recs, _, err := o.Pending(context.Background(), limit, skip)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	seqs := make([]int64, len(recs))
	for i, r := range recs {
		seqs[i] = r.Sequence
	}
	return seqs
}

// TestOutboxAPublishedRecordHoldsNothingBack: a record can be parked by one
// relay after another one sent it (a leadership change mid-batch). Once the
// broker's acknowledgement is recorded, the invoice's later events flow.
func TestOutboxAPublishedRecordHoldsNothingBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	a := uuid.New()
	a1, a2 := insertOutboxRow(t, pool, a, 1), insertOutboxRow(t, pool, a, 2)
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: a1, Err: "timeout", Park: true}}); err != nil {
		t.Fatal(err)
	}
	if got := pendingSeqs(t, o, pool); len(got) != 0 {
		t.Fatalf("Pending with a1 parked = %v, want none", got)
	}
	if err := o.MarkPublished(ctx, []int64{a1}); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{a2}; !slices.Equal(got, want) {
		t.Fatalf("Pending after a1 was published = %v, want %v", got, want)
	}
}

func TestOutboxPendingHoldsBackAFailingInvoice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	a, b := uuid.New(), uuid.New()
	a1, b1, a2, b2 := insertOutboxRow(t, pool, a, 1), insertOutboxRow(t, pool, b, 1), insertOutboxRow(t, pool, a, 2), insertOutboxRow(t, pool, b, 2)

	if got, want := pendingSeqs(t, o, pool), []int64{a1, b1, a2, b2}; !slices.Equal(got, want) {
		t.Fatalf("Pending = %v, want commit order %v", got, want)
	}

	// a1 rejected, retry in an hour: a's later event waits too, b flows.
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: a1, Err: "too large", RetryAfter: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{b1, b2}; !slices.Equal(got, want) {
		t.Fatalf("Pending after a1 failed = %v, want %v", got, want)
	}

	// Due again: a1 and a2 (moved aside behind it) come back, in order,
	// before the rows not yet published.
	if _, err := pool.Exec(ctx, "UPDATE outbox_held SET next_attempt_at = now() - interval '1s' WHERE sequence = $1", a1); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{a1, a2, b1, b2}; !slices.Equal(got, want) {
		t.Fatalf("Pending when a1 is due = %v, want %v", got, want)
	}

	// Parked: out until retried, holding a2 back; b published.
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: a1, Err: "still too large", Park: true}}); err != nil {
		t.Fatal(err)
	}
	if err := o.MarkPublished(ctx, []int64{b1, b2}); err != nil {
		t.Fatal(err)
	}
	if got := pendingSeqs(t, o, pool); len(got) != 0 {
		t.Fatalf("Pending with a1 parked = %v, want none", got)
	}
	failed, err := o.ListFailed(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0].Sequence != a1 || failed[0].Attempts != 2 ||
		failed[0].LastError != "still too large" || failed[0].FailedAt.IsZero() {
		t.Fatalf("ListFailed = %+v, want a1 with 2 attempts and its last error", failed)
	}

	if err := o.Retry(ctx, uuid.New()); !errors.Is(err, relay.ErrNotFailed) {
		t.Fatalf("Retry(unknown id) = %v, want relay.ErrNotFailed", err)
	}
	if err := o.Retry(ctx, uuid.UUID(failed[0].ID)); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{a1, a2}; !slices.Equal(got, want) {
		t.Fatalf("Pending after Retry = %v, want %v", got, want)
	}
	if err := o.Retry(ctx, uuid.UUID(failed[0].ID)); !errors.Is(err, relay.ErrNotFailed) {
		t.Fatalf("second Retry = %v, want relay.ErrNotFailed", err)
	}
}

func TestOutboxRetryAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	s1, s2 := insertOutboxRow(t, pool, uuid.New(), 1), insertOutboxRow(t, pool, uuid.New(), 1)
	insertOutboxRow(t, pool, uuid.New(), 1)
	err := o.RecordFailures(ctx, []relay.Failure{{Sequence: s1, Err: "x", Park: true}, {Sequence: s2, Err: "y", Park: true}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := o.RetryAll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RetryAll = %d, %v; want 2, nil", n, err)
	}
	if got := pendingSeqs(t, o, pool); len(got) != 3 {
		t.Fatalf("Pending after RetryAll = %v, want all 3", got)
	}
}

func TestOutboxPruneDeletesOnlyOldPublishedRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	oldPublished := insertOutboxRow(t, pool, uuid.New(), 1)
	newPublished := insertOutboxRow(t, pool, uuid.New(), 1)
	oldParked := insertOutboxRow(t, pool, uuid.New(), 1)
	unpublished := insertOutboxRow(t, pool, uuid.New(), 1)
	_, err := pool.Exec(ctx, `UPDATE outbox SET occurred_at = now() - interval '8 days' WHERE sequence = $1;`, oldPublished)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `UPDATE outbox SET occurred_at = now() - interval '1 day' WHERE sequence = $1`, newPublished)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `UPDATE outbox SET occurred_at = now() - interval '30 days' WHERE sequence = $1`, oldParked)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: oldParked, Err: "x", Park: true}}); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, pool) // the position passes only rows older than every running transaction
	if err := o.MarkPublished(ctx, []int64{oldPublished, newPublished}); err != nil {
		t.Fatal(err)
	}

	n, err := o.Prune(ctx, time.Now().Add(-168*time.Hour), 1000)
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1, nil", n, err)
	}
	var left []int64
	rows, _ := pool.Query(ctx, "SELECT sequence FROM outbox ORDER BY sequence")
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		left = append(left, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{newPublished, oldParked, unpublished}; !slices.Equal(left, want) {
		t.Fatalf("rows after prune = %v, want %v", left, want)
	}
}

func TestOutboxPruneWorksInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	_, err := pool.Exec(ctx, `INSERT INTO outbox
    (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{}', now() - interval '9 days'
FROM generate_series(1, 25)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.MarkPublished(ctx, pendingSeqs(t, o, pool)); err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for {
		n, err := o.Prune(ctx, time.Now().Add(-time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
		if n < 10 {
			break
		}
	}
	if !slices.Equal(counts, []int64{10, 10, 5}) {
		t.Fatalf("prune batches = %v, want [10 10 5]", counts)
	}
}

// The relay's position never passes a row it has not settled: a row marked
// after a row not yet marked leaves the position before the gap (the row
// marked is not read again); once the row in the gap is moved aside, the
// position passes both.
func TestOutboxPositionNeverPassesAnUnsettledRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	r1, r2, r3 := insertOutboxRow(t, pool, uuid.New(), 1), insertOutboxRow(t, pool, uuid.New(), 1), insertOutboxRow(t, pool, uuid.New(), 1)
	waitReadable(t, pool) // the position passes only rows older than every running transaction
	if err := o.MarkPublished(ctx, []int64{r1, r3}); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{r2}; !slices.Equal(got, want) {
		t.Fatalf("Pending after r1 and r3 were published = %v, want %v", got, want)
	}
	if err := o.RecordFailures(ctx, []relay.Failure{{Sequence: r2, Behind: true}}); err != nil {
		t.Fatal(err)
	}
	if err := o.MarkPublished(ctx, []int64{r3}); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{r2}; !slices.Equal(got, want) {
		t.Fatalf("Pending with r2 moved aside, r3 published = %v, want %v", got, want)
	}
	if err := o.MarkPublished(ctx, []int64{r2}); err != nil {
		t.Fatal(err)
	}
	if got := pendingSeqs(t, o, pool); len(got) != 0 {
		t.Fatalf("Pending with everything published = %v, want none", got)
	}
	if b, err := o.Backlog(ctx); err != nil || b.Unpublished != 0 {
		t.Fatalf("Backlog = %+v, %v; want nothing unpublished", b, err)
	}
}

// A row committed after a row with a higher sequence is still read, and
// a long transaction holds back no other event: the relay reads every
// committed row, but its position passes only rows of transactions older
// than every running one, so the late row still sorts above it.
func TestOutboxPendingNeverSkipsALateCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	late, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = late.Rollback(ctx) }()
	var lateSeq int64
	if err := late.QueryRow(ctx, `INSERT INTO outbox
    (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'invoice.created', '{}', now()) RETURNING sequence`).Scan(&lateSeq); err != nil {
		t.Fatal(err)
	}
	early := insertOutboxRow(t, pool, uuid.New(), 1)
	recs, lag, err := o.Pending(ctx, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Sequence != early || lag != (relay.Lag{}) {
		t.Fatalf("Pending while an older transaction runs = %d records, lag %+v; want only %d, no lag", len(recs), lag, early)
	}
	if err := o.MarkPublished(ctx, []int64{early}); err != nil {
		t.Fatal(err)
	}
	if recs, _, err := o.Pending(ctx, 100, nil); err != nil || len(recs) != 0 {
		t.Fatalf("Pending after %d was published = %d records, %v; want none", early, len(recs), err)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingSeqs(t, o, pool), []int64{lateSeq}; !slices.Equal(got, want) {
		t.Fatalf("Pending once the older transaction committed = %v, want %v", got, want)
	}
	if err := o.MarkPublished(ctx, []int64{lateSeq}); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, pool)
	if recs, lag, err := o.Pending(ctx, 100, nil); err != nil || len(recs) != 0 || lag != (relay.Lag{}) {
		t.Fatalf("Pending with both published = %d records, lag %+v, %v; want none, the position past both", len(recs), lag, err)
	}
	if b, err := o.Backlog(ctx); err != nil || b.Unpublished != 0 {
		t.Fatalf("Backlog with both published = %+v, %v; want nothing unpublished", b, err)
	}
}

// A read starts past the rows the relay has in hand, but a row read and
// then no longer in hand, neither published nor moved aside (left unsent
// by a broker outage), is read again: nothing is skipped for having been
// read once.
func TestOutboxPendingReadsAgainARowLeftUnsent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	o := invoicingpg.NewOutbox(pool)
	r1, r2, r3 := insertOutboxRow(t, pool, uuid.New(), 1), insertOutboxRow(t, pool, uuid.New(), 1), insertOutboxRow(t, pool, uuid.New(), 1)
	waitReadable(t, pool)
	if got := readSeqs(t, o, 1); !slices.Equal(got, []int64{r1}) {
		t.Fatalf("first read = %v, want [%d]", got, r1)
	}
	if got := readSeqs(t, o, 1, r1); !slices.Equal(got, []int64{r2}) {
		t.Fatalf("read with %d in flight = %v, want [%d]", r1, got, r2)
	}
	// r1 was published; r2 was not sent.
	if err := o.MarkPublished(ctx, []int64{r1}); err != nil {
		t.Fatal(err)
	}
	if got := readSeqs(t, o, 10); !slices.Equal(got, []int64{r2, r3}) {
		t.Fatalf("read after %d was left unsent = %v, want [%d %d]", r2, got, r2, r3)
	}
	if err := o.MarkPublished(ctx, []int64{r2, r3}); err != nil {
		t.Fatal(err)
	}
	if got := readSeqs(t, o, 10); len(got) != 0 {
		t.Fatalf("read with everything published = %v, want none", got)
	}
}

// The relay's round trips change how PostgreSQL plans and commits for
// their own implicit transaction only: on a pool of one connection, the
// statement that follows them (a payment, say) is planned as PostgreSQL
// chooses and commits synchronously.
func TestOutboxRoundTripsLeaveTheConnectionAsTheyFoundIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	pool, err := invoicingpg.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	o := invoicingpg.NewOutbox(pool)
	settingsAfter := func(what string) {
		t.Helper()
		var plan, commit string
		if err := pool.QueryRow(ctx, `SELECT current_setting('plan_cache_mode'), current_setting('synchronous_commit')`).Scan(&plan, &commit); err != nil {
			t.Fatal(err)
		}
		if plan != "auto" || commit != "on" {
			t.Errorf("after %s: plan_cache_mode %s, synchronous_commit %s; want auto, on", what, plan, commit)
		}
	}
	seq := insertOutboxRow(t, pool, uuid.New(), 1)
	waitReadable(t, pool)
	inHand := make([]int64, 100) // more than a read plans once for
	for i := range inHand {
		inHand[i] = -int64(i + 1)
	}
	for _, skip := range [][]int64{nil, inHand} {
		if _, _, err := o.Pending(ctx, 10, skip); err != nil {
			t.Fatal(err)
		}
		settingsAfter(fmt.Sprintf("a read leaving out %d rows", len(skip)))
	}
	if err := o.MarkPublished(ctx, []int64{seq}); err != nil {
		t.Fatal(err)
	}
	settingsAfter("a marking")
}

// TestOutboxReadsTheDataAsWritten: the relay, the event feed and an
// invoice's history hand back an event's data as the repository wrote it
// (its members in their order, no spaces), not jsonb's rendering of it;
// and that of a row written without it (before migration 12, or by an
// instance of the release before) from its payload.
func TestOutboxReadsTheDataAsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	tenant, agg := uuid.New(), uuid.New()
	const written, old = `{"number":"INV-1","amount":1200,"customer":{"name":"<Ä>"}}`, `{"number": "INV-1"}`
	if _, err := pool.Exec(ctx, `INSERT INTO outbox
    (event_id, tenant_id, aggregate_id, aggregate_version, event_type, data, payload, occurred_at)
VALUES ($1, $2, $3, 1, 'invoice.created', $4::text::json, $4::text::jsonb, now())`, uuid.New(), tenant, agg, written); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO outbox
    (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
VALUES ($1, $2, $3, 2, 'invoice.issued', $4, now())`, uuid.New(), tenant, agg, old); err != nil {
		t.Fatal(err)
	}
	waitReadable(t, pool)
	want := []string{written, old}
	check := func(reader string, recs []outbox.EventRecord) {
		t.Helper()
		got := make([]string, len(recs))
		for i, r := range recs {
			got[i] = string(r.Payload)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s read the data as %q, want %q", reader, got, want)
		}
	}
	pending, _, err := invoicingpg.NewOutbox(pool).Pending(ctx, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs []outbox.EventRecord
	for _, r := range pending {
		recs = append(recs, r.EventRecord)
	}
	check("the relay", recs)
	events := invoicingpg.NewEvents(pool)
	feed, err := events.Feed(ctx, kernel.TenantID(tenant), app.FeedFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	check("the feed", feed.Events)
	history, err := events.History(ctx, kernel.TenantID(tenant), invoice.ID(agg), app.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	check("the history", history.Events)
}

// TestSendOrderPutsHeldEventsFirst: a read's two parts come back from
// PostgreSQL in no promised order; the relay sends the held events due
// first, then the rows read above the position, each in (txid, sequence)
// order, and no more than the batch.
func TestSendOrderPutsHeldEventsFirst(t *testing.T) {
	// (held, txid, sequence)
	rows := [][3]int64{{0, 9, 30}, {1, 7, 12}, {0, 8, 21}, {0, 8, 20}, {1, 5, 40}}
	if got, want := invoicingpg.SendOrder(rows, 10), []int64{40, 12, 20, 21, 30}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if got, want := invoicingpg.SendOrder(rows, 3), []int64{40, 12, 20}; !slices.Equal(got, want) {
		t.Errorf("order of the first 3 = %v, want %v", got, want)
	}
}
