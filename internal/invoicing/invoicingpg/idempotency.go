package invoicingpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The statements of idempotent writes (app.IdempotentRequest). The result
// stored is the app's (app.Result): kind, id and version of the resource it
// answers with, and a view this package stores without reading it. A row
// stored before results holds the caller's own bytes in response instead
// (migration 000010), which a replay hands back as they are. A key lives 24
// hours from the start of the transaction that stored it; every statement
// reads expiry against now(), the current transaction's start, so they
// agree.
const (
	// lockKeySQL takes the transaction-level advisory lock of (tenant, key)
	// if it is free. A try-lock, because a retry arriving while the first
	// request is in flight must get a 409 at once, not queue behind it. It
	// runs as its own statement before lookupKeySQL: in READ COMMITTED each
	// statement takes a new snapshot, and a holder commits before its lock is
	// released, so the lookup sees the row of any request that held the lock
	// before us. (A hash collision of two keys costs a spurious 409, at odds
	// of 2^-64.)
	lockKeySQL = `SELECT pg_try_advisory_xact_lock(hashtextextended($1::uuid::text || ':' || $2, 0))`

	lookupKeySQL = `SELECT fingerprint, resource_kind, resource_id, resource_version, resource_view, response
FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'`

	// storeKeySQL replaces an expired row of the key that pruning has not
	// reached yet; an unexpired one cannot exist (we hold the lock and looked).
	storeKeySQL = `INSERT INTO idempotency_keys (tenant_id, key, fingerprint,
    resource_kind, resource_id, resource_version, resource_view)
VALUES ($1, $2, $3, $4, $5, $6::bigint, $7)
ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
    resource_kind = EXCLUDED.resource_kind, resource_id = EXCLUDED.resource_id,
    resource_version = EXCLUDED.resource_version, resource_view = EXCLUDED.resource_view,
    response = NULL, created_at = EXCLUDED.created_at
WHERE idempotency_keys.created_at <= now() - interval '24 hours'`

	// pruneKeysSQL deletes a few expired keys. Every write that stores a key
	// runs it as its last statement, so keys are pruned as fast as they are
	// created, in small batches, without a background job. SKIP LOCKED: it
	// never waits for, or deadlocks with, a concurrent writer; and being last,
	// the rows it locks are held only while COMMIT is on its way.
	pruneKeysSQL = `DELETE FROM idempotency_keys k USING (
    SELECT tenant_id, key FROM idempotency_keys WHERE created_at <= now() - interval '24 hours'
    ORDER BY created_at LIMIT 8 FOR UPDATE SKIP LOCKED) old
WHERE k.tenant_id = old.tenant_id AND k.key = old.key`
)

// keyCheck is the outcome of the statements queued by queueKeyCheck.
type keyCheck struct {
	done   bool // both statements ran
	locked bool
	found  bool
	print  []byte
	stored storedResult
}

// storedResult is a row's answer: a result, or (kind NULL) the bytes a
// version before results stored.
type storedResult struct {
	kind     *string
	id       *[16]byte
	version  *int64
	view     []byte
	response []byte
}

// replayed returns the answer as the error of a replay.
func (s storedResult) replayed() *app.Replayed {
	if s.kind == nil || s.id == nil || s.version == nil {
		return &app.Replayed{Legacy: s.response}
	}
	return &app.Replayed{Result: app.Result{Resource: app.Resource(*s.kind), ID: *s.id, Version: *s.version, View: s.view}}
}

// queueKeyCheck queues, in a transaction, the lock and the lookup of key;
// their outcome lands in kc once the batch has run.
func queueKeyCheck(b *pgx.Batch, tenant kernel.TenantID, key *app.IdempotentRequest, kc *keyCheck) {
	b.Queue(lockKeySQL, [16]byte(tenant), key.Key).QueryRow(func(row pgx.Row) error {
		return row.Scan(&kc.locked)
	})
	b.Queue(lookupKeySQL, [16]byte(tenant), key.Key).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			kc.found = true
			st := &kc.stored
			if err := rows.Scan(&kc.print, &st.kind, &st.id, &st.version, &st.view, &st.response); err != nil {
				return err
			}
		}
		kc.done = rows.Err() == nil
		return rows.Err()
	})
}

// verdict returns nil if the change may go ahead under key; else the stored
// answer as *app.Replayed (same request), app.ErrIdempotencyKeyReused
// (another request), or app.ErrIdempotencyKeyInUse (a request holding the key
// is in flight). A stored answer wins over a held lock: it is committed.
func (kc *keyCheck) verdict(key *app.IdempotentRequest) error {
	switch {
	case !kc.done:
		return errors.New("postgres: idempotency key check did not run")
	case kc.found && bytes.Equal(kc.print, key.Fingerprint):
		return kc.stored.replayed()
	case kc.found:
		return app.ErrIdempotencyKeyReused
	case !kc.locked:
		return app.ErrIdempotencyKeyInUse
	}
	return nil
}

// queueKeyStore queues the insert of result under the tenant's key, then
// the pruning of a few expired keys. The insert fails the batch if it finds
// an unexpired row of the key (it cannot, under the lock).
func queueKeyStore(b *pgx.Batch, tenant kernel.TenantID, key *app.IdempotentRequest, result app.Result) {
	b.Queue(storeKeySQL, [16]byte(tenant), key.Key, key.Fingerprint,
		string(result.Resource), [16]byte(result.ID), result.Version, result.View).
		Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("postgres: idempotency key %q already stored", key.Key)
			}
			return nil
		})
	b.Queue(pruneKeysSQL)
}

// addIdempotent stores c's new invoice and events and its key's result in
// one transaction, after checking the key. It returns the errors of
// keyCheck.verdict as is, and database errors wrapped; on error nothing is
// stored.
//
// Tuning, measured by bench-pay: three round trips, each pipelined: BEGIN with the
// key's lock and lookup; the writes; COMMIT.
func (r *Invoices) addIdempotent(ctx context.Context, c change) (err error) {
	id := c.inv.ID()
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	var kc keyCheck
	queueKeyCheck(b, c.inv.Tenant(), c.key, &kc)
	br := r.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer func() {
		if err != nil {
			err = withRollback(ctx, tx, err)
		}
	}()
	if err := br.Close(); err != nil {
		return fmt.Errorf("postgres: add invoice %s: idempotency key: %w", id, err)
	}
	if err := kc.verdict(c.key); err != nil {
		return err
	}
	wb := &pgx.Batch{}
	if err := queueNew(wb, c); err != nil {
		return fmt.Errorf("postgres: add invoice %s: %w", id, err)
	}
	queueKeyStore(wb, c.inv.Tenant(), c.key, c.result)
	if err := tx.SendBatch(ctx, wb).Close(); err != nil {
		return fmt.Errorf("postgres: add invoice %s: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: add invoice %s: commit: %w", id, commitFailed(err, true))
	}
	return nil
}
