package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
)

// IssueCreditNote issues a credit note against an open, paid or
// uncollectible invoice.
type IssueCreditNote struct {
	Tenant    invoice.TenantID
	InvoiceID invoice.ID
	Lines     []creditnote.LineInput // either lines ...
	Amount    *int64                 // ... or an amount, in the invoice's currency
	Reason    string
	Memo      string
	IfMatch   Condition // the invoice versions the credit may apply to (If-Match)
	// Idempotency, if not nil, makes the request idempotent under its Key
	// and Fingerprint; its Response is not used: Respond encodes the
	// answer instead, from the credit note.
	Idempotency *IdempotentRequest
	// Respond encodes the answer stored with an idempotency key, from the
	// credit note as committed (see IdempotentRequest.Response).
	Respond func(*creditnote.CreditNote) ([]byte, error)
}

// CreditNoteIssued is the outcome of IssueCreditNote.
type CreditNoteIssued struct {
	CreditNote *creditnote.CreditNote
	Invoice    *invoice.Invoice // as committed, with its new amounts
	Response   []byte           // what Respond encoded and was stored, or nil
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
	var cn *creditnote.CreditNote
	var opts ChangeOptions
	if k := cmd.Idempotency; k != nil {
		// Runs after fn, in the same attempt: cn is that attempt's.
		opts.Idempotency = &IdempotentRequest{Key: k.Key, Fingerprint: k.Fingerprint,
			Response: func(*invoice.Invoice) ([]byte, error) { return cmd.Respond(cn) }}
	}
	changed, err := h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(ctx context.Context, inv *invoice.Invoice, tx Tx) error {
		cn = nil
		if err := cmd.IfMatch.check(inv); err != nil {
			return err
		}
		req, err := creditnote.NewRequest(inv.Currency(), cmd.Lines, cmd.Amount, cmd.Reason, cmd.Memo)
		if err != nil {
			return err
		}
		// Check before taking a number: a doomed credit should not
		// serialize behind the tenant's counter lock.
		if err := inv.CanCredit(req.Amount()); err != nil {
			return req.Blame(err)
		}
		now := h.clock.Now()
		n, err := tx.NextCreditNoteNumber(ctx, cmd.Tenant, now.Year())
		if err != nil {
			return err
		}
		id, number := creditnote.NewID(), creditnote.FormatNumber(now.Year(), n)
		alloc, err := inv.Credit(uuid.UUID(id), number, req.Amount(), now)
		if err != nil {
			return req.Blame(err)
		}
		issued, err := creditnote.Issue(id, inv, number, req, alloc, now)
		if err != nil {
			return err
		}
		if err := tx.AddCreditNote(ctx, issued); err != nil {
			return err
		}
		cn = issued
		return nil
	})
	if err != nil {
		return CreditNoteIssued{}, err
	}
	return CreditNoteIssued{CreditNote: cn, Invoice: changed.Invoice, Response: changed.Response}, nil
}
