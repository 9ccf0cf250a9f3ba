package invoicingpg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

var (
	_ app.Invoices      = (*Invoices)(nil)
	_ app.InvoiceReader = (*Invoices)(nil)
	_ app.LineList      = (*Invoices)(nil)
	_ app.InvoiceList   = (*Invoices)(nil)
)

// defaultMaxAttempts is how many times Update runs by default before a lost
// race is reported as app.ErrInvoiceBusy. Under the invoice's row lock an
// attempt loses only to a deadlock or a row written outside Update.
const defaultMaxAttempts = 3

// DefaultLockTimeout is how long an Update waits by default for a lock (the
// invoice's row, a number counter) before it fails with app.ErrInvoiceBusy:
// far longer than a queue of changes of one invoice takes to pass (each
// holds the lock for a few milliseconds), far shorter than a request's
// deadline, so that a lock held by something stuck is reported as such
// while the request can still be answered.
const DefaultLockTimeout = 5 * time.Second

// Invoices is the PostgreSQL invoice repository. It writes each change and
// the events it raised to the outbox in one transaction.
type Invoices struct {
	pool        *pgxpool.Pool
	afterCommit func()
	maxAttempts int
	lockTimeout string // lock_timeout's value, e.g. "5000ms"
}

// InvoicesOption configures NewInvoices.
type InvoicesOption func(*Invoices)

// WithAfterCommit sets fn to be called after every successful commit that
// inserted outbox rows, e.g. to wake the relay. It runs synchronously on the
// writer's goroutine, so it must be cheap and must not block.
func WithAfterCommit(fn func()) InvoicesOption {
	return func(r *Invoices) { r.afterCommit = fn }
}

// WithMaxAttempts sets how many times Update loads and runs its function when
// it keeps losing optimistic-concurrency races (default 3; below 1 means 1).
func WithMaxAttempts(n int) InvoicesOption {
	return func(r *Invoices) { r.maxAttempts = max(n, 1) }
}

// WithLockTimeout sets how long Update waits for a lock before it fails with
// app.ErrInvoiceBusy (default DefaultLockTimeout; below a millisecond means
// a millisecond: PostgreSQL reads 0 as no limit).
func WithLockTimeout(d time.Duration) InvoicesOption {
	return func(r *Invoices) { r.lockTimeout = lockTimeout(d) }
}

// lockTimeout returns d as a value of lock_timeout.
func lockTimeout(d time.Duration) string {
	return fmt.Sprintf("%dms", max(d.Milliseconds(), 1))
}

// NewInvoices returns a repository on pool.
func NewInvoices(pool *pgxpool.Pool, opts ...InvoicesOption) *Invoices {
	r := &Invoices{pool: pool, afterCommit: func() {}, maxAttempts: defaultMaxAttempts, lockTimeout: lockTimeout(DefaultLockTimeout)}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Get returns the tenant's invoice id, or invoice.ErrNotFound if there is no
// such invoice or it belongs to another tenant. It returns an error wrapping
// invoice.ErrCorruptInvoice if the stored invoice breaks an invariant, and
// database errors wrapped.
func (r *Invoices) Get(ctx context.Context, tenant kernel.TenantID, id invoice.ID) (_ *invoice.Invoice, err error) {
	defer markUnavailable(&err)
	var row invoiceRow
	if err := row.scan(r.pool.QueryRow(ctx, getSQL, [16]byte(id), [16]byte(tenant))); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, invoice.ErrNotFound
		}
		return nil, fmt.Errorf("postgres: get invoice %s: %w", id, err)
	}
	return row.invoice()
}
