package invoicingpg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// Outbox is the outbox table as the relay and its operators use it: it
// implements relay.Store and the `outbox failed` / `outbox retry` commands.
type Outbox struct {
	pool *pgxpool.Pool
}

var _ relay.Store = (*Outbox)(nil)

// NewOutbox returns the outbox on pool.
func NewOutbox(pool *pgxpool.Pool) *Outbox {
	return &Outbox{pool: pool}
}

// pendingSQL reads the relay's next batch from the partial index of
// unpublished rows. A row is left out while an earlier row of its invoice is
// held: parked, or waiting for its retry time; so an invoice's events never
// overtake one another. Rows are not locked: only the leader reads them.
//
// The hold check does not say published_at IS NULL, on purpose: only
// unpublished rows carry failed_at or next_attempt_at (MarkPublished clears
// them), and without that clause the check can only be answered from
// outbox_holds, which holds only held rows (migration 6 says why).
const pendingSQL = `SELECT ` + eventColumns + `, o.attempts
FROM outbox o
WHERE o.published_at IS NULL
  AND NOT (o.sequence = ANY($2::bigint[]))
  AND o.failed_at IS NULL
  AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= now())
  AND NOT EXISTS (
      SELECT 1 FROM outbox f
      WHERE f.aggregate_id = o.aggregate_id AND f.sequence < o.sequence
        AND (f.failed_at IS NOT NULL OR f.next_attempt_at > now()))
ORDER BY o.sequence
LIMIT $1::bigint`

// pendingPlan pins pendingSQL to an ordered scan of outbox_unpublished, the
// partial index of unpublished rows, for the transaction that reads a batch.
//
// Why: marking a row published cannot be a HOT update, so it leaves a dead
// entry in outbox_unpublished until vacuum comes, and under load thousands
// accumulate between vacuums (on a large table, 20% of it by default). An
// ordered index scan flags each dead entry it meets (kill_prior_tuple), so
// the next reads skip it without visiting the table; a bitmap scan flags
// nothing and visits the table page of every dead entry on every read. The
// planner picks the bitmap scan whenever its estimate of unpublished rows is
// small, which is most of the time. Measured with EXPLAIN (ANALYZE,
// BUFFERS) after a paced run: the bitmap read stays as slow on every read
// as the index scan's first one, which then gets two orders of magnitude
// faster (figures: docs/architecture.md, "The relay").
const pendingPlan = `SET LOCAL enable_bitmapscan = off`

// Pending implements relay.Store.Pending. It returns database errors wrapped.
func (o *Outbox) Pending(ctx context.Context, limit int, skip []int64) ([]relay.Record, error) {
	if skip == nil {
		skip = []int64{}
	}
	var recs []relay.Record
	err := pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pendingPlan); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, pendingSQL, limit, skip)
		if err != nil {
			return err
		}
		recs, err = pgx.CollectRows(rows, scanRecord)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read pending outbox: %w", err)
	}
	return recs, nil
}

// scanRecord scans one row of pendingSQL.
func scanRecord(row pgx.CollectableRow) (r relay.Record, err error) {
	err = scanEvent(row, &r.EventRecord, &r.Attempts)
	return r, err
}

const markPublishedSQL = `UPDATE outbox SET published_at = now(), next_attempt_at = NULL, failed_at = NULL
WHERE sequence = ANY($1::bigint[]) AND published_at IS NULL`

// MarkPublished implements relay.Store.MarkPublished in one statement. A
// published row is no longer held, whatever happened to it before (a record
// parked after another relay sent it): pendingSQL relies on that. It returns
// database errors wrapped.
func (o *Outbox) MarkPublished(ctx context.Context, sequences []int64) error {
	_, err := o.pool.Exec(ctx, markPublishedSQL, sequences)
	if err != nil {
		return fmt.Errorf("postgres: mark %d outbox rows published: %w", len(sequences), err)
	}
	return nil
}

const recordFailuresSQL = `UPDATE outbox o SET
    attempts = o.attempts + 1,
    last_error = f.err,
    next_attempt_at = CASE WHEN f.park THEN NULL ELSE now() + f.delay_ms * interval '1 millisecond' END,
    failed_at = CASE WHEN f.park THEN now() END
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::boolean[]) AS f (seq, err, delay_ms, park)
WHERE o.sequence = f.seq AND o.published_at IS NULL`

// RecordFailures implements relay.Store.RecordFailures in one statement. It
// returns database errors wrapped.
func (o *Outbox) RecordFailures(ctx context.Context, failures []relay.Failure) error {
	seqs := make([]int64, len(failures))
	msgs := make([]string, len(failures))
	delays := make([]int64, len(failures))
	parks := make([]bool, len(failures))
	for i, f := range failures {
		seqs[i], msgs[i], delays[i], parks[i] = f.Sequence, f.Err, f.RetryAfter.Milliseconds(), f.Park
	}
	_, err := o.pool.Exec(ctx, recordFailuresSQL, seqs, msgs, delays, parks)
	if err != nil {
		return fmt.Errorf("postgres: record %d outbox failures: %w", len(failures), err)
	}
	return nil
}

const pruneSQL = `DELETE FROM outbox WHERE sequence IN (
    SELECT sequence FROM outbox WHERE published_at < $1 ORDER BY published_at LIMIT $2::bigint)`

// Prune implements relay.Store.Prune. Deleting a bounded batch by primary
// key keeps each statement short: inserts never conflict with it (they touch
// other rows) and no long transaction holds back vacuum. It returns database
// errors wrapped.
func (o *Outbox) Prune(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	tag, err := o.pool.Exec(ctx, pruneSQL, cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// backlogSQL reads the backlog in one statement from the small partial
// indexes of unpublished and of parked rows (outbox_unpublished,
// outbox_parked): its cost grows with the backlog, not with the table. The
// oldest row is the one with the lowest sequence, one index probe.
const backlogSQL = `SELECT
    (SELECT count(*) FROM outbox WHERE published_at IS NULL),
    (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL AND published_at IS NULL),
    (SELECT occurred_at FROM outbox WHERE published_at IS NULL ORDER BY sequence LIMIT 1)`

// Backlog returns how many events wait to be published, how many of them
// are parked, and when the oldest happened, for monitoring. It returns
// database errors wrapped.
func (o *Outbox) Backlog(ctx context.Context) (relay.Backlog, error) {
	var b relay.Backlog
	var oldest *time.Time
	if err := o.pool.QueryRow(ctx, backlogSQL).Scan(&b.Unpublished, &b.Parked, &oldest); err != nil {
		return relay.Backlog{}, fmt.Errorf("postgres: read outbox backlog: %w", err)
	}
	if oldest != nil {
		b.Oldest = *oldest
	}
	return b, nil
}
