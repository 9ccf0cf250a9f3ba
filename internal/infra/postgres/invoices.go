package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

var _ app.Invoices = (*Invoices)(nil)

// defaultMaxAttempts is how many times Update runs by default before a lost
// race is reported as invoice.ErrConcurrentUpdate.
const defaultMaxAttempts = 3

// Invoices is the PostgreSQL invoice repository. It writes each change and
// the events it raised to the outbox in one transaction.
type Invoices struct {
	pool        *pgxpool.Pool
	afterCommit func()
	maxAttempts int
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

// NewInvoices returns a repository on pool.
func NewInvoices(pool *pgxpool.Pool, opts ...InvoicesOption) *Invoices {
	r := &Invoices{pool: pool, afterCommit: func() {}, maxAttempts: defaultMaxAttempts}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Get returns the tenant's invoice id, or invoice.ErrNotFound if there is no
// such invoice or it belongs to another tenant. It returns an error wrapping
// invoice.ErrCorruptInvoice if the stored invoice breaks an invariant, and
// database errors wrapped.
func (r *Invoices) Get(ctx context.Context, tenant invoice.TenantID, id invoice.ID) (_ *invoice.Invoice, err error) {
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
