-- Fewer outbox indexes. Marking a row published is an UPDATE that
-- cannot be HOT (published_at is in index predicates), so it writes an entry
-- into every full index of outbox: each one dropped here took ~13% of the
-- WAL records and ~12-16% of the buffer accesses of marking a batch
-- (EXPLAIN (ANALYZE, BUFFERS, WAL), 500 rows), and a share of every pay
-- transaction's outbox insert.
--
-- outbox_tenant_sequence (tenant_id, sequence): no query needs it. The
-- feed's cursor lookup finds its row by primary key, the feed itself walks
-- outbox_tenant_txid_sequence, an invoice's history uses
-- outbox_aggregate_version_unique.
DROP INDEX IF EXISTS outbox_tenant_sequence;

-- The UNIQUE on event_id: no query reads by event_id alone (`outbox retry
-- EVENT_ID` finds parked rows through outbox_parked). The trade: event ids
-- are UUIDv7 the service generates, one per (invoice, version), and
-- outbox_aggregate_version_unique still refuses a second event for the same
-- invoice version; what is no longer checked by the database is a collision
-- of two generated ids, which UUIDv7's randomness already rules out.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;
