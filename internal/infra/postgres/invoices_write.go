package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// Add stores a new invoice, its lines and payments, and the events pulled
// from it into the outbox, atomically and in one round trip. If ctx carries
// an app.Idempotency, the key is checked and the response stored in the same
// transaction (three round trips; see addIdempotent), and Add may fail with
// *app.Replayed, app.ErrIdempotencyKeyReused or app.ErrIdempotencyKeyInUse.
// It returns database errors wrapped (a duplicate id is a unique violation)
// and JSON encoding errors of events; on error nothing is stored, and the
// pulled events are lost with inv, which the caller should discard.
func (r *Invoices) Add(ctx context.Context, inv *invoice.Invoice) (err error) {
	defer markUnavailable(&err)
	events := inv.PullEvents()
	if idem := app.IdempotencyFrom(ctx); idem != nil {
		return r.addIdempotent(ctx, inv, events, idem)
	}
	b := &pgx.Batch{}
	if err := queueNew(b, inv, events, app.TraceFrom(ctx)); err != nil {
		return fmt.Errorf("postgres: add invoice %s: %w", inv.ID(), err)
	}
	// A batch sent outside a transaction runs in one implicit transaction
	// (one Sync for the whole pipeline): it commits as a whole when the last
	// statement succeeds and leaves nothing behind if any fails.
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: add invoice %s: %w", inv.ID(), err)
	}
	if len(events) > 0 {
		r.afterCommit()
	}
	return nil
}

// queueNew queues the inserts of a new invoice, its children and its events
// (with trace). It fails only if an event cannot be encoded.
func queueNew(b *pgx.Batch, inv *invoice.Invoice, events []invoice.Event, trace app.Trace) error {
	c, t := inv.Customer(), inv.Totals()
	b.Queue(insertInvoiceSQL, [16]byte(inv.ID()), [16]byte(inv.Tenant()), nullString(inv.Number()),
		string(inv.Status()), string(inv.Currency()), c.Name, c.Email,
		nullTime(inv.DueDate()), t.Subtotal.Amount(), t.Tax.Amount(), t.Total.Amount(),
		t.AmountPaid.Amount(), nullTime(inv.IssuedAt()), nullTime(inv.PaidAt()), nullTime(inv.VoidedAt()),
		nullString(inv.VoidReason()), inv.Version(), inv.CreatedAt(), inv.UpdatedAt())
	queueChildren(b, inv, nil, nil)
	return queueOutbox(b, events, trace)
}

// queueUpdate queues the UPDATE of inv's row, guarded by the version loaded.
func queueUpdate(b *pgx.Batch, inv *invoice.Invoice, loaded int64) *pgx.QueuedQuery {
	c, t := inv.Customer(), inv.Totals()
	return b.Queue(updateInvoiceSQL, [16]byte(inv.ID()), [16]byte(inv.Tenant()), loaded, nullString(inv.Number()),
		string(inv.Status()), c.Name, c.Email, nullTime(inv.DueDate()),
		t.Subtotal.Amount(), t.Tax.Amount(), t.Total.Amount(), t.AmountPaid.Amount(),
		nullTime(inv.IssuedAt()), nullTime(inv.PaidAt()), nullTime(inv.VoidedAt()),
		nullString(inv.VoidReason()), inv.Version(), inv.UpdatedAt())
}

// Update implements app.Invoices.Update. In one transaction it loads the
// tenant's invoice (invoice.ErrNotFound if missing or another tenant's), runs
// fn with a ctx carrying the transaction, and, if fn recorded events, writes
// the new state guarded by the loaded version, together with the events in
// the outbox. An error from fn is returned unchanged (joined with the
// rollback's error if that failed); a lost race reloads and runs fn again, up
// to the configured attempts, and then fails with invoice.ErrConcurrentUpdate.
// Every other error (begin, statements, commit, rollback) is returned
// wrapped. It returns the invoice as committed. If ctx carries an
// app.Idempotency, the key is checked before the load (each attempt), and
// the response is rendered and stored with the writes; Update may then fail
// with *app.Replayed, app.ErrIdempotencyKeyReused or
// app.ErrIdempotencyKeyInUse. An attempt in which fn records no event stores
// no response.
func (r *Invoices) Update(ctx context.Context, tenant invoice.TenantID, id invoice.ID, fn app.UpdateFunc) (_ *invoice.Invoice, err error) {
	defer markUnavailable(&err)
	for range r.maxAttempts {
		inv, lost, err := r.tryUpdate(ctx, tenant, id, fn)
		if !lost {
			return inv, err
		}
	}
	return nil, invoice.ErrConcurrentUpdate
}

// tryUpdate runs one attempt of Update; lost reports a lost race (with a nil
// error: the transaction was rolled back and the attempt may be repeated).
func (r *Invoices) tryUpdate(ctx context.Context, tenant invoice.TenantID, id invoice.ID, fn app.UpdateFunc) (_ *invoice.Invoice, lost bool, _ error) {
	idem := app.IdempotencyFrom(ctx)
	tx, snap, err := r.begin(ctx, tenant, id, idem)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		// A panicking fn must not leak the transaction and its connection.
		if p := recover(); p != nil {
			_ = rollback(ctx, tx)
			panic(p)
		}
	}()
	inv, err := invoice.Rehydrate(snap)
	if err != nil {
		return nil, false, withRollback(ctx, tx, err)
	}

	txCtx := withTx(ctx, tx)
	if err := fn(txCtx, inv); err != nil {
		return nil, false, withRollback(ctx, tx, err)
	}
	events := inv.PullEvents()
	if len(events) == 0 {
		// Nothing changed (e.g. a replayed payment). Roll back rather than
		// commit: should fn have taken an invoice number, it goes back.
		if err := rollback(ctx, tx); err != nil {
			return nil, false, fmt.Errorf("postgres: update invoice %s: rollback: %w", id, err)
		}
		return inv, false, nil
	}

	committed, err := asCommitted(inv)
	if err != nil {
		// Cannot happen for an aggregate that kept its invariants.
		return nil, false, withRollback(ctx, tx, err)
	}

	// Round trip 2: every write, pipelined. The guarded UPDATE comes first: it
	// waits for any transaction holding the row, then matches no row if that
	// one committed a new version. The statements after it then still run
	// (they are already sent) but are rolled back with the attempt.
	wb := &pgx.Batch{}
	var updateRan bool
	var updated int64
	queueUpdate(wb, inv, snap.Version).Exec(func(tag pgconn.CommandTag) error {
		updateRan, updated = true, tag.RowsAffected()
		return nil
	})
	queueChildren(wb, inv, snap.Lines, snap.Payments)
	if err := queueOutbox(wb, events, app.TraceFrom(ctx)); err != nil {
		return nil, false, withRollback(ctx, tx, fmt.Errorf("postgres: update invoice %s: %w", id, err))
	}
	var resp app.StoredResponse
	if idem != nil {
		if resp, err = queueKeyStore(wb, idem, committed); err != nil {
			return nil, false, withRollback(ctx, tx, err)
		}
	}
	err = tx.SendBatch(ctx, wb).Close()
	// Errors of the statements after an UPDATE that matched no row are
	// consequences of the lost race (e.g. the winner's outbox versions).
	if (updateRan && updated == 0) || (err != nil && isLostRace(err)) {
		if err := rollback(ctx, tx); err != nil {
			return nil, false, fmt.Errorf("postgres: update invoice %s: rollback: %w", id, err)
		}
		return nil, true, nil
	}
	if err != nil {
		return nil, false, withRollback(ctx, tx, fmt.Errorf("postgres: update invoice %s: write: %w", id, err))
	}
	if r.beforeCommit != nil {
		if err := r.beforeCommit(txCtx); err != nil {
			return nil, false, withRollback(ctx, tx, err)
		}
	}
	// Round trip 3.
	if err := tx.Commit(ctx); err != nil {
		if isLostRace(err) {
			return nil, true, nil // a failed COMMIT has rolled back
		}
		return nil, false, fmt.Errorf("postgres: update invoice %s: commit: %w", id, err)
	}
	r.afterCommit()
	if idem != nil {
		idem.Stored = &resp
	}
	return committed, false, nil
}

// begin runs round trip 1 of an update attempt: BEGIN, the lock and lookup
// of idem's key (if idem is not nil), and the load, pipelined. The load takes
// no row lock (optimistic concurrency): concurrent updates run their
// functions in parallel, and the version-guarded UPDATE decides the winner.
// It returns the open transaction and the loaded invoice; on error the
// transaction is rolled back and the error is keyCheck.verdict's,
// invoice.ErrNotFound, an error wrapping invoice.ErrCorruptInvoice, or a
// database error wrapped.
func (r *Invoices) begin(ctx context.Context, tenant invoice.TenantID, id invoice.ID, idem *app.Idempotency) (pgx.Tx, invoice.Snapshot, error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	var kc keyCheck
	if idem != nil {
		queueKeyCheck(b, tenant, idem, &kc)
	}
	var row invoiceRow
	b.Queue(getSQL, [16]byte(id), [16]byte(tenant)).QueryRow(func(r pgx.Row) error { return row.scan(r) })
	br := r.pool.SendBatch(ctx, b)
	tx := br.Tx()
	err := br.Close()
	if idem != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		// Before the load's verdict: a replay wins over whatever the invoice
		// has become since.
		if err := kc.verdict(idem); err != nil {
			return nil, invoice.Snapshot{}, withRollback(ctx, tx, err)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, invoice.Snapshot{}, withRollback(ctx, tx, invoice.ErrNotFound)
	}
	if err != nil {
		return nil, invoice.Snapshot{}, withRollback(ctx, tx, fmt.Errorf("postgres: update invoice %s: load: %w", id, err))
	}
	snap, err := row.snapshot()
	if err != nil {
		return nil, invoice.Snapshot{}, withRollback(ctx, tx, err)
	}
	return tx, snap, nil
}
