package app

import (
	"context"
	"errors"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// InvoiceKey names an invoice of any tenant.
type InvoiceKey struct {
	Tenant kernel.TenantID
	ID     invoice.ID
}

// OverdueCandidates finds invoices that may have become overdue, across
// tenants, for the overdue job. It only narrows the search: the invoice
// itself decides (invoice.MarkOverdue).
type OverdueCandidates interface {
	// DueInvoices returns up to limit invoices, by increasing id after after
	// (nil: from the first), that are open or uncollectible, due before
	// asOf's date in UTC, and not recorded overdue. It returns storage errors.
	DueInvoices(ctx context.Context, asOf time.Time, after *invoice.ID, limit int) ([]InvoiceKey, error)
}

// DefaultOverdueBatch is how many invoices RecordOverdue reads at once
// unless told otherwise.
const DefaultOverdueBatch = 100

// RecordOverdue asks every invoice whose due date has passed whether it is
// overdue, so that each records invoicing.invoice.overdue once. It is the
// work of a scheduled job.
type RecordOverdue struct {
	BatchSize int // invoices read at once; 0: DefaultOverdueBatch
}

// OverdueResult is what a RecordOverdue run did.
type OverdueResult struct {
	Checked  int // invoices asked
	Recorded int // invoices that recorded invoice.overdue
	Failed   int // invoices whose change failed (see the error)
}

// RecordOverdueHandler handles RecordOverdue.
type RecordOverdueHandler struct {
	invoices   Invoices
	candidates OverdueCandidates
	clock      Clock
}

// NewRecordOverdueHandler returns the handler of RecordOverdue.
func NewRecordOverdueHandler(invoices Invoices, candidates OverdueCandidates, clock Clock) RecordOverdueHandler {
	return RecordOverdueHandler{invoices: invoices, candidates: candidates, clock: clock}
}

// Handle walks the candidates in batches and changes each invoice in its own
// unit of work (Invoices.Update), where the invoice decides at the time read
// once at the start whether it is overdue. Each change commits alone, so a
// run stopped half-way keeps what it recorded, and a run after it finds
// those invoices no longer candidates (and, should it load one all the same,
// the invoice records nothing twice). Two runs at once are safe for the same
// reason: the loser of a race reloads the invoice and finds it recorded.
//
// An invoice whose change fails is counted and skipped; Handle returns the
// result with those errors joined (at most ten), and stops early only when
// ctx ends or the candidates cannot be read.
func (h RecordOverdueHandler) Handle(ctx context.Context, cmd RecordOverdue) (OverdueResult, error) {
	batch := cmd.BatchSize
	if batch <= 0 {
		batch = DefaultOverdueBatch
	}
	now := h.clock.Now()
	var res OverdueResult
	var errs []error
	var after *invoice.ID
	for {
		keys, err := h.candidates.DueInvoices(ctx, now, after, batch)
		if err != nil {
			return res, errors.Join(append(errs, err)...)
		}
		for _, k := range keys {
			if err := ctx.Err(); err != nil {
				return res, errors.Join(append(errs, err)...)
			}
			var recorded bool
			_, err := h.invoices.Update(ctx, k.Tenant, k.ID, ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
				recorded = inv.MarkOverdue(now)
				return Result{}, nil
			})
			res.Checked++
			switch {
			case err != nil:
				res.Failed++
				if len(errs) < 10 {
					errs = append(errs, err)
				}
			case recorded:
				res.Recorded++
			}
		}
		if len(keys) < batch {
			return res, errors.Join(errs...)
		}
		after = &keys[len(keys)-1].ID
	}
}
