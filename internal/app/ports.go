// Package app holds the use cases of the invoicing service and the ports
// (interfaces) they need. It depends only on the domain; infrastructure
// implements the ports, and the HTTP layer calls the use cases.
package app

import (
	"context"
	"time"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// UpdateFunc changes an invoice inside Invoices.Update's transaction. ctx
// carries that transaction: ports of this package called with it (such as
// InvoiceNumbers.Next) join it. It must not call other systems (brokers, HTTP
// services): what they must learn becomes an event. It may run more than once
// if Update retries after losing a race, each time on a freshly loaded invoice.
type UpdateFunc func(ctx context.Context, inv *invoice.Invoice) error

// Invoices stores invoices. Every method is scoped by tenant: another tenant's
// invoice is reported exactly like a missing one (invoice.ErrNotFound).
type Invoices interface {
	// Add stores a new invoice and the events it recorded, in one transaction.
	// If ctx carries an Idempotency (WithIdempotency), it is honoured as that
	// type describes: Add may then fail with *Replayed,
	// ErrIdempotencyKeyReused or ErrIdempotencyKeyInUse and store nothing.
	Add(ctx context.Context, inv *invoice.Invoice) error

	// Get returns the invoice, or invoice.ErrNotFound.
	Get(ctx context.Context, tenant invoice.TenantID, id invoice.ID) (*invoice.Invoice, error)

	// List returns a page of the tenant's invoices matching f, newest first
	// (by creation time, then id). It fails with ErrInvalidCursor if
	// f.StartingAfter is set and is not one of the tenant's invoices.
	List(ctx context.Context, tenant invoice.TenantID, f ListFilter) (InvoicePage, error)

	// Lines returns a page of the invoice's lines, in the invoice's order,
	// or invoice.ErrNotFound. It fails with ErrInvalidCursor if
	// f.StartingAfter is set and is not one of the invoice's lines.
	Lines(ctx context.Context, tenant invoice.TenantID, id invoice.ID, f LineFilter) (LinePage, error)

	// Update loads the invoice, runs fn, and, if fn recorded events, writes the
	// new state and those events in one transaction, guarded by the version it
	// loaded. A lost race is retried a few times and then reported as
	// invoice.ErrConcurrentUpdate. An error from fn rolls everything back and is
	// returned as is. It returns the invoice as committed. If ctx carries an
	// Idempotency, it is honoured as for Add, the key being checked before the
	// invoice is loaded.
	Update(ctx context.Context, tenant invoice.TenantID, id invoice.ID, fn UpdateFunc) (*invoice.Invoice, error)
}

// ListFilter selects a page of invoices for List.
type ListFilter struct {
	Status        invoice.Status // empty: any
	CustomerEmail string         // empty: any
	StartingAfter *invoice.ID    // nil: from the newest; else the invoices older than this one
	Limit         int            // 1..MaxListLimit
}

// InvoicePage is a page of invoices, newest first, each with at most
// ListedLines of its lines.
type InvoicePage struct {
	Invoices []InvoiceView
	HasMore  bool // older invoices match the filter
}

// LineFilter selects a page of an invoice's lines for Lines.
type LineFilter struct {
	StartingAfter *invoice.LineID // nil: from the first line; else the lines after this one
	Limit         int             // 1..MaxListLimit
}

// LinePage is a page of an invoice's lines, in the invoice's order.
type LinePage struct {
	Lines   []invoice.Line
	HasMore bool // more lines follow
}

// PageBytes is the byte budget of a page: a page of invoices or events stops
// taking items once they would pass it (it always takes its first), and says
// that more follow. With the bounds on what one item holds (ListedLines
// lines per invoice in a list; an event carries at most its invoice's
// lines, ~1.5 MB encoded at worst), it keeps every page of invoices or
// events under 8 MiB and a request's memory bounded, whatever the data.
const PageBytes = 4 << 20

// InvoiceNumbers hands out each tenant's invoice numbers.
type InvoiceNumbers interface {
	// Next returns the next number (1, 2, 3, ...) of tenant's sequence for
	// year, with no gaps: it must be called with the ctx of an UpdateFunc, so
	// the number is taken in that transaction and returned to the pool if it
	// rolls back. It fails if ctx carries no transaction.
	Next(ctx context.Context, tenant invoice.TenantID, year int) (int64, error)
}

// APIKeys stores API keys, only as hashes.
type APIKeys interface {
	// Create stores hash as a key of the tenant named tenantName, creating the
	// tenant if it does not exist, and returns the tenant's id.
	Create(ctx context.Context, tenantName string, hash []byte) (invoice.TenantID, error)

	// Tenant returns the tenant owning the key with this hash, or ErrUnauthorized.
	Tenant(ctx context.Context, hash []byte) (invoice.TenantID, error)
}

// Clock tells the time. Use cases take it so tests can fix the time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to the microsecond
// PostgreSQL stores, so an invoice in memory equals the one read back.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
