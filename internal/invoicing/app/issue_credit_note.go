package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// IssueCreditNote issues a credit note against an open, paid or
// uncollectible invoice.
type IssueCreditNote struct {
	Tenant    kernel.TenantID
	InvoiceID invoice.ID
	Lines     []creditnote.LineInput // either lines ...
	Amount    *int64                 // ... or an amount, in the invoice's currency
	Reason    string
	Memo      string
	IfMatch   Condition // the invoice versions the credit may apply to (If-Match)
	// Idempotency, if not nil, makes the request idempotent under its Key
	// and Fingerprint: the Result stored answers with the credit note.
	Idempotency *IdempotentRequest
}

// CreditNoteIssued is the outcome of IssueCreditNote.
type CreditNoteIssued struct {
	CreditNote *creditnote.CreditNote
	Invoice    *invoice.Invoice // as committed, with its new amounts
	Result     Result           // what was stored under the idempotency key, or zero
}

// IssueCreditNoteHandler handles IssueCreditNote.
type IssueCreditNoteHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle issues the credit note and returns it with its invoice as
// committed. In one unit of work on the invoice: the invoice checks and
// applies the credit (it owns the credited total), the credit note takes the
// tenant's next credit note number and is stored, both with their events.
// A concurrent credit note on the same invoice makes the invoice's guarded
// write miss, and the retry sees the other's credit. It fails with
// ErrVersionMismatch if cmd.IfMatch does not allow the invoice's version,
// the errors of creditnote.NewRequest, invoice.Invoice.Credit and
// creditnote.Issue, and those of Invoices.Update and Tx.
func (h IssueCreditNoteHandler) Handle(ctx context.Context, cmd IssueCreditNote) (CreditNoteIssued, error) {
	var cn *creditnote.CreditNote // the committed attempt's, for the caller
	opts := ChangeOptions{Idempotency: cmd.Idempotency, Numbers: CreditNoteNumbers}
	changed, err := h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(ctx context.Context, inv *invoice.Invoice, tx Tx) (Result, error) {
		cn = nil
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		req, err := creditnote.NewRequest(inv.Currency(), cmd.Lines, cmd.Amount, cmd.Reason, cmd.Memo)
		if err != nil {
			return Result{}, err
		}
		// Check before taking a number: a doomed credit should not
		// serialize behind the tenant's counter lock.
		if err := inv.CanCredit(req.Amount()); err != nil {
			return Result{}, req.Blame(err)
		}
		now := h.clock.Now()
		n, err := tx.NextCreditNoteNumber(ctx, cmd.Tenant, now.Year())
		if err != nil {
			return Result{}, err
		}
		id, number := creditnote.NewID(), creditnote.FormatNumber(now.Year(), n)
		alloc, err := inv.Credit(uuid.UUID(id), number, req.Amount(), now)
		if err != nil {
			return Result{}, req.Blame(err)
		}
		issued, err := creditnote.Issue(id, inv, number, req, alloc, now)
		if err != nil {
			return Result{}, err
		}
		if err := tx.AddCreditNote(ctx, issued); err != nil {
			return Result{}, err
		}
		cn = issued
		if cmd.Idempotency == nil {
			return Result{}, nil
		}
		return CreditNoteResult(issued)
	})
	if err != nil {
		return CreditNoteIssued{}, err
	}
	return CreditNoteIssued{CreditNote: cn, Invoice: changed.Invoice, Result: changed.Result}, nil
}
