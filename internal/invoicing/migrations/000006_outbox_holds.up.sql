-- The relay's check for an earlier held event of the same invoice (parked,
-- or waiting for its retry time) no longer names published_at, so that the
-- only index able to answer it is this one, which holds only held rows.
--
-- Why: the check named published_at IS NULL, which let the planner answer it
-- by scanning outbox_unpublished, once per candidate row. Statistics are
-- taken while the relay keeps up, when that index is nearly empty, so the
-- planner believed the scan free. When a backlog built up (a NATS outage, or
-- a burst), every read scanned the whole backlog 500 times: with 20,000
-- unpublished rows, 795 ms and 220,000 buffer accesses per read, and the
-- relay fell further behind the longer it ran. With this index: 1.5 ms and
-- 513 buffers. See TestPendingStaysFastWithABacklogTheStatisticsMissed.
--
-- The check relies on this invariant: only unpublished rows have failed_at
-- or next_attempt_at set. RecordFailures touches unpublished rows only, and
-- MarkPublished now clears both columns; this clears them on rows already
-- published.
UPDATE outbox SET failed_at = NULL, next_attempt_at = NULL
WHERE published_at IS NOT NULL AND (failed_at IS NOT NULL OR next_attempt_at IS NOT NULL);

DROP INDEX IF EXISTS outbox_failing;
CREATE INDEX outbox_holds ON outbox (aggregate_id, sequence)
    WHERE failed_at IS NOT NULL OR next_attempt_at IS NOT NULL;
