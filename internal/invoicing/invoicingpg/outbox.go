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
//
// It is set_config(..., true), not SET LOCAL, so that it can share a batch
// with the read (see Pending): the statements of a batch run in one
// implicit transaction, which SET LOCAL does not count as one (it warns).
const pendingPlan = `SELECT set_config('enable_bitmapscan', 'off', true)`

// Pending implements relay.Store.Pending. It returns database errors wrapped.
//
// The plan setting and the read go out as one batch: one round trip to the
// server instead of four (begin, set, read, commit), each of which waits
// its turn for a CPU on a busy database server while events queue behind
// the read (see relay_event_stage_seconds{stage="wake_to_claimed"};
// measured by bench/c2d.sh).
func (o *Outbox) Pending(ctx context.Context, limit int, skip []int64) ([]relay.Record, error) {
	if skip == nil {
		skip = []int64{}
	}
	var recs []relay.Record
	b := &pgx.Batch{}
	b.Queue(pendingPlan)
	b.Queue(pendingSQL, limit, skip).Query(func(rows pgx.Rows) (err error) {
		recs, err = pgx.CollectRows(rows, scanRecord)
		return err
	})
	if err := o.pool.SendBatch(ctx, b).Close(); err != nil {
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

// markLazily lets the marking's commit return before its WAL reaches the
// disk (synchronous_commit off, for that transaction only).
//
// What it trades: a database crash may forget the marks of the last
// moments before it (at most three wal_writer_delay, 600 ms by default);
// those events are then sent again, which the broker's duplicate window
// drops, and beyond that window the consumers' inboxes (delivery is at
// least once). What it saves: the relay settles a batch's marking before
// it sends the next batch, and a synchronous commit waits for the disk in
// the queue of every payment's commit; a lazy one returns at once (see
// relay_event_stage_seconds{stage="acked_to_marked"}; measured by
// bench/c2d.sh).
const markLazily = `SELECT set_config('synchronous_commit', 'off', true)`

// MarkPublished implements relay.Store.MarkPublished in one statement,
// committed lazily (see markLazily) in the same round trip. A published row
// is no longer held, whatever happened to it before (a record parked after
// another relay sent it): pendingSQL relies on that. It returns database
// errors wrapped.
func (o *Outbox) MarkPublished(ctx context.Context, sequences []int64) error {
	b := &pgx.Batch{}
	b.Queue(markLazily)
	b.Queue(markPublishedSQL, sequences)
	err := o.pool.SendBatch(ctx, b).Close()
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
