package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// The statements of idempotent writes (app.Idempotency). A key lives 24 hours
// from the start of the transaction that stored it; every statement reads
// expiry against now(), the current transaction's start, so they agree.
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

	lookupKeySQL = `SELECT fingerprint, status, headers, body FROM idempotency_keys
WHERE tenant_id = $1 AND key = $2 AND created_at > now() - interval '24 hours'`

	// storeKeySQL replaces an expired row of the key that pruning has not
	// reached yet; an unexpired one cannot exist (we hold the lock and looked).
	storeKeySQL = `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, headers, body)
VALUES ($1, $2, $3, $4::integer, $5, $6)
ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
    headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = EXCLUDED.created_at
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
	stored app.StoredResponse
}

// queueKeyCheck queues, in a transaction, the lock and the lookup of idem's
// key; their outcome lands in kc once the batch has run.
func queueKeyCheck(b *pgx.Batch, tenant invoice.TenantID, idem *app.Idempotency, kc *keyCheck) {
	b.Queue(lockKeySQL, [16]byte(tenant), idem.Key).QueryRow(func(row pgx.Row) error {
		return row.Scan(&kc.locked)
	})
	b.Queue(lookupKeySQL, [16]byte(tenant), idem.Key).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			kc.found = true
			if err := rows.Scan(&kc.print, &kc.stored.Status, &kc.stored.Header, &kc.stored.Body); err != nil {
				return err
			}
		}
		kc.done = rows.Err() == nil
		return rows.Err()
	})
}

// verdict returns nil if the change may go ahead under idem's key; else the
// stored response as *app.Replayed (same request), app.ErrIdempotencyKeyReused
// (another request), or app.ErrIdempotencyKeyInUse (a request holding the key
// is in flight). A stored response wins over a held lock: it is committed.
func (kc *keyCheck) verdict(idem *app.Idempotency) error {
	switch {
	case !kc.done:
		return errors.New("postgres: idempotency key check did not run")
	case kc.found && bytes.Equal(kc.print, idem.Fingerprint):
		return &app.Replayed{Response: kc.stored}
	case kc.found:
		return app.ErrIdempotencyKeyReused
	case !kc.locked:
		return app.ErrIdempotencyKeyInUse
	}
	return nil
}

// queueKeyStore renders the response to committed, the invoice as it will be
// committed, and queues its insert under idem's key, then the pruning of a few
// expired keys. It returns the response, or Render's error, or an error if the
// insert finds an unexpired row of the key (it cannot, under the lock).
func queueKeyStore(b *pgx.Batch, idem *app.Idempotency, committed *invoice.Invoice) (app.StoredResponse, error) {
	resp, err := idem.Render(committed)
	if err != nil {
		return app.StoredResponse{}, err
	}
	header := resp.Header
	if header == nil {
		header = map[string]string{}
	}
	b.Queue(storeKeySQL, [16]byte(committed.Tenant()), idem.Key, idem.Fingerprint, resp.Status, header, resp.Body).
		Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("postgres: idempotency key %q already stored", idem.Key)
			}
			return nil
		})
	b.Queue(pruneKeysSQL)
	return resp, nil
}

// addIdempotent is Add for a ctx carrying idem: in one transaction it checks
// the key, inserts the invoice and its events, and stores the response. It
// returns the errors of keyCheck.verdict and of Render as is, and database
// errors wrapped; on error nothing is stored.
func (r *Invoices) addIdempotent(ctx context.Context, inv *invoice.Invoice, events []invoice.Event, idem *app.Idempotency) error {
	committed, err := asCommitted(inv)
	if err != nil {
		return err
	}
	// Round trip 1: BEGIN, lock and lookup. Round trip 2: the writes. 3: COMMIT.
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	var kc keyCheck
	queueKeyCheck(b, inv.Tenant(), idem, &kc)
	br := r.pool.SendBatch(ctx, b)
	tx := br.Tx()
	if err := br.Close(); err != nil {
		return withRollback(ctx, tx, fmt.Errorf("postgres: add invoice %s: idempotency key: %w", inv.ID(), err))
	}
	if err := kc.verdict(idem); err != nil {
		return withRollback(ctx, tx, err)
	}
	wb := &pgx.Batch{}
	if err := queueNew(wb, inv, events, app.TraceFrom(ctx)); err != nil {
		return withRollback(ctx, tx, fmt.Errorf("postgres: add invoice %s: %w", inv.ID(), err))
	}
	resp, err := queueKeyStore(wb, idem, committed)
	if err != nil {
		return withRollback(ctx, tx, err)
	}
	if err := tx.SendBatch(ctx, wb).Close(); err != nil {
		return withRollback(ctx, tx, fmt.Errorf("postgres: add invoice %s: %w", inv.ID(), err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: add invoice %s: commit: %w", inv.ID(), err)
	}
	idem.Stored = &resp
	if len(events) > 0 {
		r.afterCommit()
	}
	return nil
}
