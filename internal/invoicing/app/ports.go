// Package app holds the use cases of the invoicing service and the ports
// (interfaces) they need. It depends only on the domain; infrastructure
// implements the ports, and the HTTP layer calls the use cases.
package app

import (
	"context"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Tx is what an UpdateFunc may do inside its update's transaction besides
// changing the invoice it is handed. Whatever it does commits or rolls back
// with the change.
type Tx interface {
	// NextInvoiceNumber returns the next number (1, 2, 3, ...) of tenant's
	// sequence for year, with no gaps: taken in the transaction, it goes back
	// to the pool if the transaction rolls back. It returns storage errors.
	NextInvoiceNumber(ctx context.Context, tenant kernel.TenantID, year int) (int64, error)

	// NextCreditNoteNumber is NextInvoiceNumber for the tenant's credit
	// notes, a sequence of its own.
	NextCreditNoteNumber(ctx context.Context, tenant kernel.TenantID, year int) (int64, error)

	// AddCreditNote stores a credit note just issued and the events pulled
	// from it, committed or rolled back with the invoice's change: the
	// invoice owns the credited total, and saving both at once keeps the
	// credit notes' sum equal to it. It returns storage errors.
	AddCreditNote(ctx context.Context, cn *creditnote.CreditNote) error
}

// UpdateFunc changes an invoice inside Invoices.Update's transaction, which
// tx stands for. It must not call other systems (brokers, HTTP services):
// what they must learn becomes an event. Concurrent updates of the invoice
// wait while it runs, so it should be quick. It may run more than once if
// Update retries after losing a race, each time on a freshly loaded invoice.
//
// It returns the Result the change answers with, which Update stores under
// the change's idempotency key; without a key it returns the zero Result,
// which Update ignores.
type UpdateFunc func(ctx context.Context, inv *invoice.Invoice, tx Tx) (Result, error)

// ChangeOptions are the caller's requests about how a change is stored.
// The zero value asks for nothing.
type ChangeOptions struct {
	// Idempotency, if not nil, makes the change idempotent under a key: see
	// IdempotentRequest.
	Idempotency *IdempotentRequest

	// Numbers, if not zero, says that the change takes a number of that
	// sequence of the tenant's (Tx.NextInvoiceNumber or
	// Tx.NextCreditNoteNumber). Such changes hold the sequence until they
	// commit, so they queue; the store may queue them before the change
	// writes anything, which keeps a waiting change from holding back
	// readers of the events committed meanwhile.
	Numbers NumberSequence
}

// NumberSequence names one of a tenant's gapless number sequences.
type NumberSequence int

// The tenant's number sequences.
const (
	InvoiceNumbers NumberSequence = iota + 1
	CreditNoteNumbers
)

// Changed is the outcome of Invoices.Add or Update.
type Changed struct {
	// Invoice is the invoice as committed (as loaded, if the change recorded
	// no event and so stored nothing).
	Invoice *invoice.Invoice
	// Result is what the change stored under its idempotency key; the zero
	// Result if there was no key or nothing was stored.
	Result Result
}

// Invoices stores invoices: the write port, the unit of work of every
// change, and nothing else. Queries read through InvoiceReader, LineList and
// InvoiceList. Every method is scoped by tenant: another tenant's invoice is
// reported exactly like a missing one (invoice.ErrNotFound).
type Invoices interface {
	// Add stores a new invoice and the events it recorded, in one transaction,
	// honouring opts.Idempotency as IdempotentRequest describes, with result
	// as what the key stores (ignored without a key): Add may then fail with
	// *Replayed, ErrIdempotencyKeyReused or ErrIdempotencyKeyInUse and store
	// nothing. It fails, storing nothing, if there is a key and result is
	// zero.
	Add(ctx context.Context, inv *invoice.Invoice, opts ChangeOptions, result Result) (Changed, error)

	// Update is the unit of work of a change. In one transaction it loads the
	// invoice, runs fn with it and the transaction's Tx, and, if fn recorded
	// events, writes the new state guarded by the version it loaded, together
	// with those events and, under opts.Idempotency's key, the Result fn
	// returned; then commits. If fn records no event, nothing is written and
	// the transaction rolls back.
	// Concurrent updates of one invoice take turns: each runs fn on the
	// version the one before committed, so a change the invoice's rules
	// allow is applied whatever the contention. A turn awaited longer than
	// the implementation's bound fails with ErrInvoiceBusy, nothing applied.
	// An error from fn rolls everything back and is returned as is.
	// opts.Idempotency is honoured as for Add, the key being checked before
	// the invoice is loaded; a change under a key for which fn returned the
	// zero Result fails, nothing applied.
	Update(ctx context.Context, tenant kernel.TenantID, id invoice.ID, opts ChangeOptions, fn UpdateFunc) (Changed, error)
}

// InvoiceReader reads one invoice for a query, outside any change: what it
// returns is committed state, to show, not to change (a change loads its
// invoice in Invoices.Update). It is scoped by tenant.
type InvoiceReader interface {
	// Get returns the invoice, or invoice.ErrNotFound.
	Get(ctx context.Context, tenant kernel.TenantID, id invoice.ID) (*invoice.Invoice, error)
}

// LineList reads pages of one invoice's lines, without loading the
// aggregate. It is scoped by tenant.
type LineList interface {
	// Lines returns a page of the invoice's lines, in the invoice's order,
	// or invoice.ErrNotFound. It fails with ErrInvalidCursor if
	// f.StartingAfter is set and is not one of the invoice's lines.
	Lines(ctx context.Context, tenant kernel.TenantID, id invoice.ID, f LineFilter) (LinePage, error)
}

// InvoiceList reads pages of invoices as their read model, InvoiceView,
// without loading the aggregates. It is scoped by tenant.
type InvoiceList interface {
	// List returns a page of the tenant's invoices matching f, newest first
	// (by creation time, then id), as views read from the invoice rows. It
	// fails with ErrInvalidCursor if f.StartingAfter is set and is not one of
	// the tenant's invoices.
	List(ctx context.Context, tenant kernel.TenantID, f ListFilter) (InvoicePage, error)
}

// InvoiceReads are the read ports over the invoices, which one store
// serves beside the write port: what New wires the invoice queries to.
type InvoiceReads interface {
	InvoiceReader
	LineList
	InvoiceList
}

// ListFilter selects a page of invoices for InvoiceList.List.
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

// LineFilter selects a page of an invoice's lines for LineList.Lines.
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

// APIKeys stores API keys, only as hashes.
type APIKeys interface {
	// Create stores hash as a key of the tenant named tenantName, creating the
	// tenant if it does not exist, and returns the tenant's id.
	Create(ctx context.Context, tenantName string, hash []byte) (kernel.TenantID, error)

	// Tenant returns the tenant owning the key with this hash, or ErrUnauthorized.
	Tenant(ctx context.Context, hash []byte) (kernel.TenantID, error)
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
