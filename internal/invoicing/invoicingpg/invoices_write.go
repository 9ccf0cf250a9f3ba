package invoicingpg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// errLostRace is the outcome of an update attempt that another transaction
// beat to a row it writes: everything was rolled back and the attempt may be
// repeated on a fresh load.
var errLostRace = errors.New("postgres: lost a race for a row")

// Update implements app.Invoices.Update: it runs update, the unit of work,
// until it does not lose a race, at most the configured number of times.
// Each attempt holds the invoice's row lock from its load to its commit, so
// concurrent changes of one invoice queue and each applies to the version
// the one before committed: a lost race is left to what the lock does not
// cover (a deadlock, a row written outside Update). It fails with an error
// wrapping app.ErrInvoiceBusy if an attempt waited for a lock longer than
// the lock timeout, or if every attempt lost. An error from fn is returned
// unchanged (joined with the rollback's error if that failed); every other
// error (begin, statements, commit, rollback) is returned wrapped.
func (r *Invoices) Update(ctx context.Context, tenant kernel.TenantID, id invoice.ID, opts app.ChangeOptions, fn app.UpdateFunc) (_ app.Changed, err error) {
	defer markUnavailable(&err)
	defer markBusy(&err)
	for range r.maxAttempts {
		changed, err := r.update(ctx, tenant, id, opts, fn)
		if !errors.Is(err, errLostRace) {
			return changed, err
		}
	}
	return app.Changed{}, fmt.Errorf("postgres: update invoice %s: %w: %d attempts lost a race", id, app.ErrInvoiceBusy, r.maxAttempts)
}

// update is one attempt of Update, in one transaction: begin, take the
// invoice's row lock and load it (with opts' idempotency key checked first),
// run fn, write the new state guarded by the loaded version together with
// the events fn recorded (and the result fn returned, under opts' key),
// commit. It returns
// errLostRace if another transaction won a race for a row it writes, or
// changed the invoice since the load (which the lock rules out; the guard
// stays as the last line of defence). If fn records no event nothing is
// written and the transaction rolls back.
func (r *Invoices) update(ctx context.Context, tenant kernel.TenantID, id invoice.ID, opts app.ChangeOptions, fn app.UpdateFunc) (_ app.Changed, err error) {
	tx, loaded, err := r.beginAndLoad(ctx, tenant, id, opts)
	if err != nil {
		return app.Changed{}, err
	}
	defer func() {
		// Every way out before COMMIT, a panicking fn included, ends the
		// transaction and gives its connection back to the pool.
		if p := recover(); p != nil {
			_ = rollback(ctx, tx)
			panic(p)
		}
		if err != nil {
			err = withRollback(ctx, tx, err)
		}
	}()

	inv, err := invoice.Rehydrate(loaded)
	if err != nil {
		return app.Changed{}, err
	}
	result, err := fn(ctx, inv, updateTx{tx})
	if err != nil {
		return app.Changed{}, err
	}
	events := inv.PullEvents()
	if len(events) == 0 {
		// Nothing changed (e.g. a replayed payment). Roll back rather than
		// commit: should fn have taken an invoice number, it goes back.
		if err := rollback(ctx, tx); err != nil {
			return app.Changed{}, fmt.Errorf("postgres: update invoice %s: rollback: %w", id, err)
		}
		return app.Changed{Invoice: inv}, nil
	}
	if result, err = app.ResultToStore(opts.Idempotency, result); err != nil {
		return app.Changed{}, err
	}
	committed, err := asCommitted(inv)
	if err != nil {
		return app.Changed{}, err
	}

	c := change{inv: inv, loaded: loaded, events: events, trace: app.TraceFrom(ctx), key: opts.Idempotency, result: result}
	if err := writeUpdate(ctx, tx, c); err != nil {
		return app.Changed{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		if isLostRace(err) {
			return app.Changed{}, errLostRace // a failed COMMIT has rolled back
		}
		return app.Changed{}, fmt.Errorf("postgres: update invoice %s: commit: %w", id, commitFailed(err, opts.Idempotency != nil))
	}
	r.afterCommit()
	return app.Changed{Invoice: committed, Result: result}, nil
}

// Add implements app.Invoices.Add: it stores a new invoice, its lines and
// payments, and the events pulled from it into the outbox, atomically. With
// opts.Idempotency it checks the key and stores result in the same
// transaction (see addIdempotent), and may fail with *app.Replayed,
// app.ErrIdempotencyKeyReused or app.ErrIdempotencyKeyInUse, or with
// app.ErrNoResult if result is zero. It returns database errors wrapped (a
// duplicate id is a unique violation) and JSON encoding errors of events; on
// error nothing is stored, and the pulled events are lost with inv, which
// the caller should discard.
func (r *Invoices) Add(ctx context.Context, inv *invoice.Invoice, opts app.ChangeOptions, result app.Result) (_ app.Changed, err error) {
	defer markUnavailable(&err)
	events := inv.PullEvents()
	if result, err = app.ResultToStore(opts.Idempotency, result); err != nil {
		return app.Changed{}, err
	}
	committed, err := asCommitted(inv)
	if err != nil {
		return app.Changed{}, err
	}
	c := change{inv: inv, events: events, trace: app.TraceFrom(ctx), key: opts.Idempotency, result: result}
	if c.key != nil {
		err = r.addIdempotent(ctx, c)
	} else {
		err = r.addOnce(ctx, c)
	}
	if err != nil {
		return app.Changed{}, err
	}
	if len(events) > 0 {
		r.afterCommit()
	}
	return app.Changed{Invoice: committed, Result: result}, nil
}

// addOnce stores c's new invoice and events in one round trip. A batch sent
// outside a transaction runs in one implicit transaction (one Sync for the
// whole pipeline): it commits as a whole when the last statement succeeds
// and leaves nothing behind if any fails.
func (r *Invoices) addOnce(ctx context.Context, c change) error {
	b := &pgx.Batch{}
	if err := queueNew(b, c); err != nil {
		return fmt.Errorf("postgres: add invoice %s: %w", c.inv.ID(), err)
	}
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: add invoice %s: %w", c.inv.ID(), batchFailed(err))
	}
	return nil
}

// change is what a write stores: the invoice as changed, as it was loaded
// (zero for a new one), the events it recorded with the trace of the request
// that caused them, and the idempotency key with the app's result to store
// under it (nil key: none).
type change struct {
	inv    *invoice.Invoice
	loaded invoice.Snapshot
	events []invoice.Event
	trace  outbox.Trace
	key    *app.IdempotentRequest
	result app.Result
}

// writeUpdate sends every write of an update attempt in one round trip: the
// guarded UPDATE of the invoice row, the inserts and deletes of its lines and
// payments, the outbox insert of the events, and the idempotency key's
// result. It returns errLostRace if the guarded UPDATE matched no row
// (another transaction committed a new version after the load) or a write
// failed because of such a race, and other errors wrapped.
//
// Tuning: the statements are pipelined in one pgx.Batch instead of sent one
// by one, so a payment costs three round trips (begin and load, writes,
// commit) whatever its number of statements, exactly the pgbench script
// bench/pgbench/pay.sql replays. The guarded UPDATE comes first: under the
// row lock it matches; should it not, the statements after it still run
// (they are already sent) but are rolled back with the attempt.
func writeUpdate(ctx context.Context, tx pgx.Tx, c change) error {
	b := &pgx.Batch{}
	updated := int64(-1)
	queueUpdate(b, c.inv, c.loaded.Version).Exec(func(tag pgconn.CommandTag) error {
		updated = tag.RowsAffected()
		return nil
	})
	queueChildren(b, c.inv, c.loaded.Lines, c.loaded.Payments)
	if err := queueOutbox(b, c.events, c.trace); err != nil {
		return fmt.Errorf("postgres: update invoice %s: %w", c.inv.ID(), err)
	}
	if c.key != nil {
		queueKeyStore(b, c.inv.Tenant(), c.key, c.result)
	}
	err := tx.SendBatch(ctx, b).Close()
	// Errors of the statements after an UPDATE that matched no row are
	// consequences of the lost race (e.g. the winner's outbox versions).
	if updated == 0 || (err != nil && isLostRace(err)) {
		return errLostRace
	}
	if err != nil {
		return fmt.Errorf("postgres: update invoice %s: write: %w", c.inv.ID(), err)
	}
	return nil
}

// beginAndLoad opens the transaction of an update attempt, bounds its lock
// waits by the lock timeout, and takes the invoice's row lock and loads it,
// after checking opts' idempotency key if it has one, and queueing for the
// tenant's number sequence if opts names one.
//
// The lock is taken whether or not the change has a condition (If-Match):
// concurrent changes of one invoice then queue instead of racing, each
// loading the version the one before committed, and a change the rules
// allow is never refused for the contention. Racing optimistically and
// locking only on a retry costs the same on invoices changed one at a time
// and wastes an attempt per change on a contended one; bench/pay.sh with
// BENCH_PAY_HOT=1 measures it. A condition is checked against the version
// loaded under the lock, which no other change can move before the commit.
// It returns the open transaction and the loaded invoice; on error the
// transaction is rolled back and the error is keyCheck.verdict's,
// invoice.ErrNotFound, an error wrapping invoice.ErrCorruptInvoice, or a
// database error wrapped.
//
// Nothing before the row lock writes (the key's lock is an advisory lock,
// its lookup a read), so the transaction's xid is assigned once the lock is
// granted, after any wait: a change of an invoice always has a younger xid
// than the change whose version it loads. The event feed and the relay read
// an invoice's events in (txid, sequence) order as version order and rely
// on it; TestAChangeTakesItsXidOnceItHoldsTheInvoice guards it.
//
// The same readers read only events of transactions older than every
// running one, so a transaction that waits while it holds an xid holds
// back every event committed meanwhile. Changes that take a number queue
// for the tenant's sequence (its counter row is held until commit), so
// they queue here first, on an advisory lock that takes no xid (see
// queueNumbersSQL), and reach the counter only once the one before has
// committed. The price: a change that turns out to take no number (an
// invoice already issued, a replay) waits its turn in that queue too.
//
// Tuning: BEGIN, the lock timeout, the key's lock and lookup, the row lock
// and the load are pipelined in one round trip, as in bench/pgbench/pay.sql.
func (r *Invoices) beginAndLoad(ctx context.Context, tenant kernel.TenantID, id invoice.ID, opts app.ChangeOptions) (pgx.Tx, invoice.Snapshot, error) {
	key := opts.Idempotency
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(lockTimeoutSQL, r.lockTimeout)
	var kc keyCheck
	if key != nil {
		queueKeyCheck(b, tenant, key, &kc)
	}
	if opts.Numbers != 0 {
		b.Queue(queueNumbersSQL, [16]byte(tenant), int(opts.Numbers))
	}
	// A statement of its own: in READ COMMITTED the load that follows takes
	// a new snapshot, which sees the commit of the change the lock waited
	// for. In one statement with the load, the row would be the latest
	// version but its lines and payments those of the older snapshot.
	b.Queue(lockInvoiceSQL, [16]byte(id), [16]byte(tenant))
	var row invoiceRow
	b.Queue(getSQL, [16]byte(id), [16]byte(tenant)).QueryRow(func(r pgx.Row) error { return row.scan(r) })
	br := r.pool.SendBatch(ctx, b)
	tx := br.Tx()
	err := br.Close()
	if key != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		// Before the load's verdict: a replay wins over whatever the invoice
		// has become since.
		if err := kc.verdict(key); err != nil {
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

// queueNew queues the inserts of c's new invoice, its children and its
// events. It fails only if an event cannot be encoded.
func queueNew(b *pgx.Batch, c change) error {
	inv := c.inv
	cu, t := inv.Customer(), inv.Totals()
	b.Queue(insertInvoiceSQL, [16]byte(inv.ID()), [16]byte(inv.Tenant()), nullString(inv.Number()),
		string(inv.Status()), string(inv.Currency()), cu.Name, cu.Email,
		nullTime(inv.DueDate()), t.Subtotal.Amount(), t.Tax.Amount(), t.Total.Amount(),
		t.AmountPaid.Amount(), nullTime(inv.IssuedAt()), nullTime(inv.PaidAt()), nullTime(inv.VoidedAt()),
		nullString(inv.VoidReason()), inv.Version(), inv.CreatedAt(), inv.UpdatedAt(),
		metadataJSON(inv), nullTime(inv.MarkedUncollectibleAt()), nullTime(inv.OverdueAt()))
	queueChildren(b, inv, nil, nil)
	return queueOutbox(b, c.events, c.trace)
}

// queueUpdate queues the UPDATE of inv's row, guarded by the version loaded.
func queueUpdate(b *pgx.Batch, inv *invoice.Invoice, loaded int64) *pgx.QueuedQuery {
	c, t := inv.Customer(), inv.Totals()
	return b.Queue(updateInvoiceSQL, [16]byte(inv.ID()), [16]byte(inv.Tenant()), loaded, nullString(inv.Number()),
		string(inv.Status()), c.Name, c.Email, nullTime(inv.DueDate()),
		t.Subtotal.Amount(), t.Tax.Amount(), t.Total.Amount(), t.AmountPaid.Amount(),
		nullTime(inv.IssuedAt()), nullTime(inv.PaidAt()), nullTime(inv.VoidedAt()),
		nullString(inv.VoidReason()), inv.Version(), inv.UpdatedAt(),
		string(inv.Currency()), metadataJSON(inv), nullTime(inv.MarkedUncollectibleAt()), nullTime(inv.OverdueAt()),
		inv.PrePaymentCredit().Amount(), t.RefundDue.Amount())
}

// metadataJSON returns inv's metadata for the metadata column: a JSON
// object, empty for none (the column is NOT NULL).
func metadataJSON(inv *invoice.Invoice) map[string]string {
	if m := inv.Metadata(); m != nil {
		return m
	}
	return map[string]string{}
}
