package invoicingpg

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// Outbox is the outbox table as the relay and its operators use it: it
// implements relay.Store and the `outbox failed` / `outbox retry` commands.
//
// It keeps what the relay's reads have told it, so that the next read can
// start past it; all of it is lost with the process, and a new leader
// starts from the position (sending again what the broker's duplicate
// window then drops).
type Outbox struct {
	pool *pgxpool.Pool

	mu sync.Mutex
	// ahead holds the rows published above the position: the relay reads
	// committed rows above the snapshot's xmin too, but the position may
	// only pass rows below it (see advanceSQL). They are left out of the
	// reads until the position passes them.
	ahead map[int64]rowKey
	// read holds the rows the reads returned that are neither published
	// nor moved aside yet: in flight, or being marked.
	read map[int64]rowKey
	// from is where the next read may start when it is past the position:
	// every row at or below it is published, moved aside, or in read (so in
	// the relay's hands). Set from the last row a read returned, and never
	// past the oldest transaction running then, whose rows may yet commit
	// below rows already read. A row in read that the relay no longer has
	// in hand (left unsent by a broker outage) resets it: the next read
	// starts at the position and returns that row again.
	from rowKey
}

// rowKey is an outbox row's place in the relay's order, (txid, sequence);
// the zero rowKey is unknown (no transaction has id 0).
type rowKey struct {
	txid uint64
	seq  int64
}

// compare orders row keys as the relay reads rows: by txid, then sequence.
func (k rowKey) compare(l rowKey) int {
	return cmp.Or(cmp.Compare(k.txid, l.txid), cmp.Compare(k.seq, l.seq))
}

// after reports whether k sorts after l.
func (k rowKey) after(l rowKey) bool { return k.compare(l) > 0 }

// maxAhead bounds Outbox.ahead. Past it, while a long transaction holds
// the xmin back, the relay reads only below the xmin and waits for it,
// rather than carry an ever longer list of rows to leave out.
const maxAhead = 10_000

var _ relay.Store = (*Outbox)(nil)

// NewOutbox returns the outbox on pool.
func NewOutbox(pool *pgxpool.Pool) *Outbox {
	return &Outbox{pool: pool, ahead: map[int64]rowKey{}, read: map[int64]rowKey{}}
}

// The relay's published position is one row of outbox_position per relay
// partition; there is one partition, 0. Every row at or below it in (txid,
// sequence) order is published, or moved aside into outbox_held (migration
// 11 says why the outbox is append-only).

// abovePosition says that the outbox row o sorts above the position. The
// position comes from scalar subqueries, not a join, so that the planner
// can start an index scan of outbox_txid_sequence at it.
const abovePosition = `(o.txid, o.sequence) > ` + position

// atOrBelowPosition says that the outbox row o sorts at or below the
// position. Written as NOT abovePosition, it would be a filter the planner
// applies to every row of the index rather than where the scan stops.
const atOrBelowPosition = `(o.txid, o.sequence) <= ` + position

// position is the relay's published position as a row value.
const position = `(
        (SELECT txid FROM outbox_position WHERE partition = 0),
        (SELECT sequence FROM outbox_position WHERE partition = 0))`

// aboveStart says that the outbox row o sorts above the position and above
// ($4, $5), the reader's own start (see Outbox.from; '0' and 0 when it has
// none). Scalar subqueries, as in abovePosition.
const aboveStart = `(o.txid, o.sequence) > (
        (SELECT CASE WHEN (p.txid, p.sequence) > ($4::xid8, $5::bigint) THEN p.txid ELSE $4::xid8 END
         FROM outbox_position p WHERE p.partition = 0),
        (SELECT CASE WHEN (p.txid, p.sequence) > ($4::xid8, $5::bigint) THEN p.sequence ELSE $5::bigint END
         FROM outbox_position p WHERE p.partition = 0))`

// pendingSQL reads the relay's next batch in one statement, hence one
// snapshot: the rows above the position (and above the reader's start, $4
// and $5: see Outbox.from) in (txid, sequence) order and, while any event
// is held (moved aside into outbox_held, see below), first the held events
// that are due. Each row comes with its txid, the snapshot's xmin, and
// whether it was read above the position, for the next read's start.
//
// Rows above the position are every committed one, less $2 (in flight,
// being marked, or published ahead of the position). A row of a
// transaction still running may commit later below rows already read, so
// the position passes only rows of transactions older than every running
// one (see advanceSQL), as the event feed reads (see feedSQL); and so that
// one long transaction anywhere on the server does not hold back every
// event committed after it, the read does not wait for those, unless $3
// (too many rows published ahead: see maxAhead). For each invoice (txid,
// sequence) order is version order, and a version commits only after the
// one before it: a change takes the invoice's row lock before its first
// write, and its xid is assigned once it holds the lock (see
// beginAndLoad). So a row read above the xmin never overtakes an earlier
// version of its invoice.
//
// While an event is held, a row above the position whose invoice has a
// held event is not returned but moved aside behind it (the moved CTE), so
// that the position can pass it and the other invoices keep flowing. A
// held event is due when it is neither parked nor waiting for its retry
// time and no earlier held event of its invoice is; so an invoice's events
// never overtake one another. Rows are not locked: only the leader reads
// them.
//
// Tuning: outbox_held is empty almost always. The outbox is read by one
// of two branches, chosen by anyHeld, which is evaluated once in the
// statement's snapshot, so exactly one of them reads: while an event is
// held, scan, which the moved CTE reads a second time, so every row, data
// included, is copied into the CTE's store; otherwise the last branch, the
// index scan and nothing else. The parts come back unordered, up to $1
// rows each: sendOrder orders them and keeps the first $1. A sort in the
// statement would copy every row once more, for an order each part
// already has.
const pendingSQL = `WITH scan AS (
    SELECT ` + pendingColumns + `, 0 AS attempts, o.txid,
        EXISTS (SELECT 1 FROM outbox_held h WHERE h.aggregate_id = o.aggregate_id) AS behind
    FROM outbox o
    WHERE ` + anyHeld + ` AND ` + nextRows + `
), moved AS (
    INSERT INTO outbox_held (sequence, aggregate_id, txid)
    SELECT sequence, aggregate_id, txid FROM scan WHERE behind
    ON CONFLICT (sequence) DO NOTHING
), due AS (
    SELECT ` + pendingColumns + `, h.attempts, h.txid
    FROM outbox_held h JOIN outbox o ON o.sequence = h.sequence
    WHERE h.failed_at IS NULL AND (h.next_attempt_at IS NULL OR h.next_attempt_at <= now())
      AND NOT (h.sequence = ANY($2::bigint[]))
      AND NOT EXISTS (
          SELECT 1 FROM outbox_held f
          WHERE f.aggregate_id = h.aggregate_id AND (f.txid, f.sequence) < (h.txid, h.sequence)
            AND (f.failed_at IS NOT NULL OR f.next_attempt_at > now()))
    ORDER BY h.txid, h.sequence
    LIMIT $1::bigint
)
SELECT sequence, event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at,
    correlation_id, traceparent, tracestate, attempts,
    txid, (SELECT pg_snapshot_xmin(pg_current_snapshot())) AS xmin, part = 1 AS scanned
FROM (
    SELECT 0 AS part, * FROM due
    UNION ALL
    SELECT 1, sequence, event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at,
        correlation_id, traceparent, tracestate, attempts, txid
    FROM scan WHERE NOT behind
) b
UNION ALL (
    SELECT ` + pendingColumns + `, 0 AS attempts, o.txid,
        (SELECT pg_snapshot_xmin(pg_current_snapshot())) AS xmin, true AS scanned
    FROM outbox o
    WHERE NOT ` + anyHeld + ` AND ` + nextRows + `
)`

// nextRows is the condition, order and limit of the rows above the start
// that pendingSQL reads, in either branch.
const nextRows = aboveStart + `
      AND (NOT $3::boolean OR o.txid < pg_snapshot_xmin(pg_current_snapshot()))
      AND NOT (o.sequence = ANY($2::bigint[]))
    ORDER BY o.txid, o.sequence
    LIMIT $1::bigint`

// anyHeld says that some event is held in outbox_held. As a scalar
// subquery it is an InitPlan, evaluated once per statement (in its
// snapshot): a branch it guards stops before its first row when false.
const anyHeld = `(SELECT EXISTS (SELECT 1 FROM outbox_held))`

// pendingColumns are eventColumns named, for pendingSQL's subqueries.
const pendingColumns = `o.sequence, o.event_id, o.tenant_id, o.aggregate_id, o.aggregate_version, o.event_type, ` + eventData + ` AS payload,
    o.occurred_at, coalesce(o.correlation_id, '') AS correlation_id, coalesce(o.traceparent, '') AS traceparent,
    coalesce(o.tracestate, '') AS tracestate`

// waitingSQL reports whether a committed row waits for an older
// transaction: any row at or above the snapshot's xmin is above the
// position (every row the relay read is below an earlier xmin). It asks
// for the newest txid, one probe of the end of outbox_txid_sequence; asked
// as EXISTS (... WHERE txid >= xmin), the planner scans the table for a
// match that is usually not there.
const waitingSQL = `SELECT coalesce((SELECT max(txid) FROM outbox) >= pg_snapshot_xmin(pg_current_snapshot()), false)`

// planOnce and planEach say how the statements of the relay's round trips
// are planned, for the implicit transaction of that round trip. It is
// set_config(..., true), not SET LOCAL, so that it can share a batch with
// the statements: the statements of a batch run in one implicit
// transaction, which SET LOCAL does not count as one (it warns).
//
// planOnce: the relay runs the same few statements for every batch, and
// planning them costs more than running them (they read a handful of rows
// at a time, and their plans do not depend on the values). Left to choose,
// PostgreSQL keeps planning the position's advance for each call. A plan
// made once per connection is as good for every call; it is remade when
// the tables' statistics change.
//
// planEach, for pendingSQL alone, when it must leave out more than
// planEachSkip sequences (a backlog: the batch in flight and the one being
// marked, two full batches): planned for the values, the check of each row
// against them is a hash lookup; in a plan made once it is a linear scan of
// the array, for every row, which then costs more than planning the read.
const (
	planOnce = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`
	planEach = `SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`
)

// planEachSkip is how many sequences pendingSQL leaves out before it is
// planned for them (see planEach).
const planEachSkip = 64

// Pending implements relay.Store.Pending: pendingSQL, then waitingSQL, in
// one round trip, after advancing the position over the rows published
// ahead of it if there are any. Its lag is unread while it waits for
// committed rows it does not read (see maxAhead), unrecorded while rows
// published ahead of the position cannot be passed yet. It returns
// database errors wrapped.
func (o *Outbox) Pending(ctx context.Context, limit int, skip []int64) (recs []relay.Record, lag relay.Lag, err error) {
	from, leave, ahead := o.startRead(skip)
	capped := len(ahead) >= maxAhead
	b := &pgx.Batch{}
	b.Queue(planOnce)
	var adv *advance
	if len(ahead) > 0 {
		// With no new batch to mark, the position must still pass the
		// rows published ahead of it once the xmin has.
		adv = o.queueAdvance(b, ahead)
	}
	if len(leave) > planEachSkip {
		b.Queue(planEach)
	}
	var got []readRow
	b.Queue(pendingSQL, limit, leave, capped, from.txid, from.seq).Query(func(rows pgx.Rows) (err error) {
		got, err = scanReadRows(rows, limit)
		return err
	})
	var waiting bool
	b.Queue(waitingSQL).QueryRow(func(row pgx.Row) error { return row.Scan(&waiting) })
	if err := o.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, relay.Lag{}, fmt.Errorf("postgres: read pending outbox: %w", err)
	}
	if adv != nil {
		o.settleAhead(ahead, adv.still())
	}
	recs, recording := o.endRead(got)
	return recs, relay.Lag{Unread: waiting && capped, Unrecorded: recording}, nil
}

// readRow is a row of pendingSQL: the record, its place, and what the
// next read's start needs.
type readRow struct {
	rec     relay.Record
	key     rowKey
	xmin    uint64 // the read's snapshot's xmin
	scanned bool   // read above the position, not among the held events
}

// scanReadRows scans the rows of pendingSQL into one set of targets (see
// eventTargets) and returns the first limit in the order to send them.
func scanReadRows(rows pgx.Rows, limit int) ([]readRow, error) {
	defer rows.Close()
	var r readRow
	targets := eventTargets(&r.rec.EventRecord, &r.rec.Attempts, &r.key.txid, &r.xmin, &r.scanned)
	got := make([]readRow, 0, limit)
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return nil, err
		}
		r.rec.OccurredAt = r.rec.OccurredAt.UTC()
		r.key.seq = r.rec.Sequence
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return sendOrder(got, limit), nil
}

// sendOrder orders the rows of one read as the relay must send them, the
// held events due first, each part in (txid, sequence) order, and returns
// the first limit.
func sendOrder(rows []readRow, limit int) []readRow {
	slices.SortFunc(rows, func(a, b readRow) int {
		if a.scanned != b.scanned {
			if a.scanned {
				return 1
			}
			return -1
		}
		return a.key.compare(b.key)
	})
	return rows[:min(len(rows), limit)]
}

// startRead returns where the next read starts (see Outbox.from), the rows
// it must leave out (skip, in the relay's hands, and the rows published
// ahead of the position, those of either at or below the start excepted:
// the read does not reach them), and the rows published ahead.
func (o *Outbox) startRead(skip []int64) (from rowKey, leave, ahead []int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	inHand := make(map[int64]bool, len(skip))
	for _, seq := range skip {
		inHand[seq] = true
	}
	for seq := range o.read {
		if !inHand[seq] {
			delete(o.read, seq)
			o.from = rowKey{}
		}
	}
	reached := func(k rowKey) bool { return k == rowKey{} || k.after(o.from) }
	leave = make([]int64, 0, len(skip)+len(o.ahead))
	for _, seq := range skip {
		if reached(o.read[seq]) {
			leave = append(leave, seq)
		}
	}
	ahead = make([]int64, 0, len(o.ahead))
	for seq, k := range o.ahead {
		ahead = append(ahead, seq)
		if reached(k) {
			leave = append(leave, seq)
		}
	}
	return o.from, leave, ahead
}

// endRead records the rows a read returned as in the relay's hands, moves
// the next read's start to the last of them read above the position, but
// not past the oldest transaction running during the read, and returns
// their records, and whether rows published ahead of the position wait to
// be passed.
func (o *Outbox) endRead(rows []readRow) (recs []relay.Record, recording bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	recording = len(o.ahead) > 0
	recs = make([]relay.Record, len(rows))
	var last rowKey
	var xmin uint64
	for i, r := range rows {
		recs[i] = r.rec
		o.read[r.key.seq] = r.key
		if r.scanned {
			last, xmin = r.key, r.xmin
		}
	}
	if last == (rowKey{}) {
		return recs, recording
	}
	if oldest := (rowKey{txid: xmin}); last.after(oldest) {
		last = oldest
	}
	if last.after(o.from) {
		o.from = last
	}
	return recs, recording
}

// advanceSQL moves the position over the longest run of rows above it that
// are published ($1) or held, and forgets the held rows of $1. The run
// holds only rows of transactions older than every running one: a row that
// commits later then sorts above the position, never below it. It stops
// short of a row that is neither (one the relay read but has not settled,
// e.g. left unsent by a broker outage): that row is read and sent again.
// The run cannot be longer than the rows marked and held together, so the
// statement reads that many rows above the position, whatever waits beyond
// them. The position only moves forward, should a deposed leader still be
// marking. It returns the position: where it moved, or, if it did not, as
// the statement's snapshot saw it (should another statement have moved it
// since, a position behind the real one, which only keeps rows published
// ahead of it a while longer).
const advanceSQL = `WITH marked AS (
    SELECT unnest($1::bigint[]) AS sequence
), forgotten AS (
    DELETE FROM outbox_held h USING marked m WHERE h.sequence = m.sequence
), span AS (
    SELECT s.txid, s.sequence, (m.sequence IS NOT NULL OR h.sequence IS NOT NULL) AS settled
    FROM (
        SELECT o.txid, o.sequence FROM outbox o
        WHERE ` + abovePosition + `
          AND o.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY o.txid, o.sequence
        LIMIT (SELECT count(*) FROM marked) + (SELECT count(*) FROM outbox_held)
    ) s
        LEFT JOIN marked m ON m.sequence = s.sequence
        LEFT JOIN outbox_held h ON h.sequence = s.sequence
), gap AS (
    SELECT txid, sequence FROM span WHERE NOT settled ORDER BY txid, sequence LIMIT 1
), reach AS (
    SELECT s.txid, s.sequence FROM span s
    WHERE s.settled AND (NOT EXISTS (SELECT 1 FROM gap)
        OR (s.txid, s.sequence) < ((SELECT txid FROM gap), (SELECT sequence FROM gap)))
    ORDER BY s.txid DESC, s.sequence DESC LIMIT 1
), moved AS (
    UPDATE outbox_position p SET txid = reach.txid, sequence = reach.sequence
    FROM reach
    WHERE p.partition = 0 AND (reach.txid, reach.sequence) > (p.txid, p.sequence)
    RETURNING p.txid, p.sequence
)
SELECT txid, sequence FROM moved
UNION ALL
SELECT txid, sequence FROM outbox_position WHERE partition = 0 AND NOT EXISTS (SELECT 1 FROM moved)`

// markLazily lets the marking's commit return before its WAL reaches the
// disk (synchronous_commit off, for that transaction only).
//
// What it trades: a database crash may forget the advances of the last
// moments before it (at most three wal_writer_delay, 600 ms by default);
// those events are then sent again, which the broker's duplicate window
// drops, and beyond that window the consumers' inboxes (delivery is at
// least once). What it saves: the relay settles a batch's marking before
// it sends the next batch, and a synchronous commit waits for the disk in
// the queue of every payment's commit; a lazy one returns at once (see
// relay_event_stage_seconds{stage="acked_to_marked"}; measured by
// bench/c2d.sh).
const markLazily = `SELECT set_config('synchronous_commit', 'off', true)`

// aheadSQL returns which of the rows $1 sort above the position: for rows
// whose place the outbox does not know (see advance).
const aheadSQL = `SELECT o.sequence FROM outbox o WHERE o.sequence = ANY($1::bigint[]) AND ` + abovePosition

// MarkPublished implements relay.Store.MarkPublished: one statement that
// advances the position over sequences and the rows published ahead of it
// before (see advanceSQL), committed lazily (see markLazily), then the
// rows the position could not pass yet, kept in o.ahead; in one round trip.
// It returns database errors wrapped.
func (o *Outbox) MarkPublished(ctx context.Context, sequences []int64) error {
	o.mu.Lock()
	published := make([]int64, 0, len(sequences)+len(o.ahead))
	published = append(published, sequences...)
	for seq := range o.ahead {
		published = append(published, seq)
	}
	o.mu.Unlock()
	b := &pgx.Batch{}
	b.Queue(markLazily)
	b.Queue(planOnce)
	adv := o.queueAdvance(b, published)
	if err := o.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: mark %d outbox rows published: %w", len(sequences), err)
	}
	o.settleAhead(published, adv.still())
	return nil
}

// advance is an advanceSQL queued in a batch, and what it says once the
// batch has run: which of the rows published the position has not passed.
type advance struct {
	known    map[int64]rowKey // the places of the rows published the outbox knows (from its reads)
	position rowKey           // the position after the statement
	unknown  []int64          // of the other rows, those above the position (aheadSQL)
}

// queueAdvance queues advanceSQL over published and, for the rows among
// them whose place the outbox does not know, aheadSQL.
func (o *Outbox) queueAdvance(b *pgx.Batch, published []int64) *advance {
	a := &advance{known: make(map[int64]rowKey, len(published))}
	var unknown []int64
	o.mu.Lock()
	for _, seq := range published {
		if k := o.placeOf(seq); k != (rowKey{}) {
			a.known[seq] = k
		} else {
			unknown = append(unknown, seq)
		}
	}
	o.mu.Unlock()
	b.Queue(advanceSQL, published).QueryRow(func(row pgx.Row) error {
		return row.Scan(&a.position.txid, &a.position.seq)
	})
	if len(unknown) > 0 {
		b.Queue(aheadSQL, unknown).Query(func(rows pgx.Rows) (err error) {
			a.unknown, err = pgx.CollectRows(rows, pgx.RowTo[int64])
			return err
		})
	}
	return a
}

// still returns the rows published that sort above the position, with
// their places (unknown for the rows aheadSQL told).
func (a *advance) still() map[int64]rowKey {
	still := make(map[int64]rowKey, len(a.unknown))
	for _, seq := range a.unknown {
		still[seq] = rowKey{}
	}
	for seq, k := range a.known {
		if k.after(a.position) {
			still[seq] = k
		}
	}
	return still
}

// placeOf returns where the row seq sorts, if a read returned it; the zero
// rowKey if not. o.mu must be held.
func (o *Outbox) placeOf(seq int64) rowKey {
	if k, ok := o.read[seq]; ok {
		return k
	}
	return o.ahead[seq]
}

// settleAhead records that the rows published are out of the relay's hands
// and that, of them, those in still are published ahead of the position
// and the others behind it. A marking and a read may settle at once: each
// only removes rows the position passed and adds rows the relay published,
// so either order leaves the same set.
func (o *Outbox) settleAhead(published []int64, still map[int64]rowKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, seq := range published {
		delete(o.ahead, seq)
		delete(o.read, seq)
	}
	maps.Copy(o.ahead, still)
}

// recordFailuresSQL moves the records the relay could not send into
// outbox_held, or updates the ones already there. A record left behind
// (f.behind) only joins its invoice's queue: no attempt is counted and a
// held row keeps its state.
const recordFailuresSQL = `INSERT INTO outbox_held AS h (sequence, aggregate_id, txid, attempts, last_error, next_attempt_at, failed_at)
SELECT o.sequence, o.aggregate_id, o.txid,
    CASE WHEN f.behind THEN 0 ELSE 1 END,
    CASE WHEN f.behind THEN NULL ELSE f.err END,
    CASE WHEN f.behind OR f.park THEN NULL ELSE now() + f.delay_ms * interval '1 millisecond' END,
    CASE WHEN f.park AND NOT f.behind THEN now() END
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::boolean[], $5::boolean[]) AS f (seq, err, delay_ms, park, behind)
JOIN outbox o ON o.sequence = f.seq
ORDER BY o.txid, o.sequence
ON CONFLICT (sequence) DO UPDATE SET
    attempts = h.attempts + 1,
    last_error = EXCLUDED.last_error,
    next_attempt_at = EXCLUDED.next_attempt_at,
    failed_at = EXCLUDED.failed_at
WHERE EXCLUDED.attempts > 0`

// RecordFailures implements relay.Store.RecordFailures in one statement
// (see recordFailuresSQL). It returns database errors wrapped.
func (o *Outbox) RecordFailures(ctx context.Context, failures []relay.Failure) error {
	seqs := make([]int64, len(failures))
	msgs := make([]string, len(failures))
	delays := make([]int64, len(failures))
	parks := make([]bool, len(failures))
	behind := make([]bool, len(failures))
	for i, f := range failures {
		seqs[i], msgs[i], delays[i], parks[i], behind[i] = f.Sequence, f.Err, f.RetryAfter.Milliseconds(), f.Park, f.Behind
	}
	_, err := o.pool.Exec(ctx, recordFailuresSQL, seqs, msgs, delays, parks, behind)
	if err != nil {
		return fmt.Errorf("postgres: record %d outbox failures: %w", len(failures), err)
	}
	o.mu.Lock()
	for _, seq := range seqs {
		delete(o.read, seq) // moved aside
	}
	o.mu.Unlock()
	return nil
}

// pruneSQL deletes the oldest rows below the position that are not held,
// among the first $2 of them in (txid, sequence) order, if they occurred
// before $1. Taking the first rows before filtering them by age bounds the
// statement's work when nothing is old enough: it reads at most $2 rows,
// not every row retained, and none of those waiting above the position.
const pruneSQL = `DELETE FROM outbox WHERE sequence IN (
    SELECT head.sequence FROM (
        SELECT o.sequence, o.occurred_at FROM outbox o
        WHERE ` + atOrBelowPosition + `
          AND NOT EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence)
        ORDER BY o.txid, o.sequence LIMIT $2::bigint) head
    WHERE head.occurred_at < $1)`

// Prune implements relay.Store.Prune (see pruneSQL). Deleting a bounded batch by primary
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

// backlogSQL reads the backlog in one statement: the rows above the
// position, and the held ones. Its cost grows with the backlog, not with
// the table. Rows above the position that a batch being marked has already
// published still count, for the moment it takes to mark them.
const backlogSQL = `SELECT
    (SELECT count(*) FROM outbox o WHERE ` + abovePosition + `
        AND NOT EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))
        + (SELECT count(*) FROM outbox_held),
    (SELECT count(*) FROM outbox_held WHERE failed_at IS NOT NULL),
    (SELECT min(occurred_at) FROM (
        (SELECT o.occurred_at FROM outbox o WHERE ` + abovePosition + `
         ORDER BY o.txid, o.sequence LIMIT 1)
        UNION ALL
        (SELECT o.occurred_at FROM outbox_held h JOIN outbox o ON o.sequence = h.sequence
         ORDER BY h.txid, h.sequence LIMIT 1)) oldest)`

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
