-- The append-only outbox: the relay no longer marks each row published.
--
-- Why: marking was an UPDATE per event that could not be HOT (published_at
-- sat in partial index predicates), so every published event cost a WAL
-- record in each outbox index, a dead tuple, and vacuum work on the table
-- every payment writes (BenchmarkOutboxWriteAmplification measures it). Now
-- the relay keeps one position per relay partition: every row at or below
-- it in (txid, sequence) order is published or moved aside into
-- outbox_held. It advances the position with one UPDATE per batch, and only
-- over rows of transactions older than every running one, as the event
-- feed's cursor moves, so a row that commits later always sorts above it.

-- One row per relay partition (one today, partition 0). A row at
-- (txid, sequence) is published when it sorts at or below (txid, sequence)
-- and is not in outbox_held. sequence 0 stands before every row of txid.
CREATE TABLE outbox_position (
    partition smallint PRIMARY KEY,
    txid      xid8     NOT NULL,
    sequence  bigint   NOT NULL
);

-- Events the relay had to step past unpublished: one the broker rejected
-- (waiting for next_attempt_at), one parked (failed_at, waiting for
-- `outbox retry`), or a later event of an invoice that has such an event
-- (neither set: it waits behind it, in per-invoice order). Small: almost
-- every event publishes on its first attempt. A row leaves once published.
CREATE TABLE outbox_held (
    sequence        bigint      PRIMARY KEY REFERENCES outbox (sequence),
    aggregate_id    uuid        NOT NULL,
    txid            xid8        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz,
    failed_at       timestamptz
);
CREATE INDEX outbox_held_aggregate ON outbox_held (aggregate_id, txid, sequence);

-- The relay walks the rows above its position in this order.
CREATE INDEX outbox_txid_sequence ON outbox (txid, sequence);

-- Every unpublished row of a transaction that has ended moves aside with
-- its state, so that nothing unpublished sorts at or below the position and
-- nothing is re-ordered (held rows are sent in per-invoice order, before the
-- later rows of their invoice). The position starts at the oldest running
-- transaction: rows of transactions still running (none can be inserting
-- into outbox, which this migration locks, but one may yet) sort above it;
-- published rows among those are sent again, which the broker's duplicate
-- window drops.
LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE;

INSERT INTO outbox_position (partition, txid, sequence)
VALUES (0, pg_snapshot_xmin(pg_current_snapshot()), 0);

INSERT INTO outbox_held (sequence, aggregate_id, txid, attempts, last_error, next_attempt_at, failed_at)
SELECT sequence, aggregate_id, txid, attempts, last_error, next_attempt_at, failed_at
FROM outbox
WHERE published_at IS NULL AND txid < (SELECT txid FROM outbox_position WHERE partition = 0);

DROP INDEX IF EXISTS outbox_unpublished;
DROP INDEX IF EXISTS outbox_parked;
DROP INDEX IF EXISTS outbox_published_at;
DROP INDEX IF EXISTS outbox_holds;
ALTER TABLE outbox
    DROP COLUMN published_at,
    DROP COLUMN next_attempt_at,
    DROP COLUMN failed_at,
    DROP COLUMN attempts,
    DROP COLUMN last_error;

-- Statistics for the (usually empty) held table, so that the planner knows
-- it is small: a table never analysed is assumed to fill ten pages, and the
-- relay's joins of it with outbox would then be planned as hash joins over
-- the whole outbox.
ANALYZE outbox_held;
