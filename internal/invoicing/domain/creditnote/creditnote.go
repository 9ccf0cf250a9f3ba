// Package creditnote is the CreditNote aggregate: the legal way to correct an
// issued invoice without touching its number. A credit note is issued at
// once, with its own gapless per-tenant number, and never changes after. It is
// pure Go and does no I/O.
//
// The rule that binds it to its invoice (the credited total never passes the
// invoice's total) is the invoice's: invoice.Invoice.Credit decides and
// returns the allocation a credit note keeps (see docs/architecture.md,
// "Credit notes").
package creditnote

import (
	"fmt"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// CreditNote is the aggregate root. It is built issued (Issue) or read back
// (Rehydrate); it has getters only.
type CreditNote struct {
	id            ID
	tenant        kernel.TenantID
	invoiceID     invoice.ID
	invoiceNumber string
	number        string
	currency      kernel.Currency
	lines         []Line
	amount        kernel.Money
	alloc         invoice.CreditAllocation
	reason        Reason
	memo          string
	issuedAt      time.Time
	version       int64

	events []Event
}

// FormatNumber returns the number of the n-th credit note a tenant issues in
// year, e.g. CN-2026-000042. The counter that hands out n (gapless, per
// tenant and year) is the repository's.
func FormatNumber(year int, n int64) string {
	return fmt.Sprintf("CN-%04d-%06d", year, n)
}

// Issue returns the credit note req describes, numbered number, against the
// invoice inv as it is after inv.Credit allocated req's amount as alloc, and
// records Issued. It fails with invoice.ErrInvalidNumber for a blank number,
// kernel.ErrCurrencyMismatch if req is not in the invoice's currency, and
// ErrAllocation if alloc does not add up to req's amount.
func Issue(id ID, inv *invoice.Invoice, number string, req Request, alloc invoice.CreditAllocation, now time.Time) (*CreditNote, error) {
	if !kernel.ValidText(number, maxNumber) {
		return nil, invoice.ErrInvalidNumber.With("number", "credit note number %q is invalid", number)
	}
	if req.amount.Currency() != inv.Currency() {
		return nil, kernel.ErrCurrencyMismatch.With("amount", "credit is in %s but the invoice is in %s", req.amount.Currency(), inv.Currency())
	}
	if sum, err := alloc.PrePayment.Add(alloc.PostPayment); err != nil || sum != req.amount {
		return nil, ErrAllocation
	}
	now = now.UTC()
	cn := &CreditNote{
		id: id, tenant: inv.Tenant(), invoiceID: inv.ID(), invoiceNumber: inv.Number(), number: number,
		currency: req.amount.Currency(), lines: append([]Line(nil), req.lines...), amount: req.amount,
		alloc: alloc, reason: req.reason, memo: req.memo, issuedAt: now, version: 1,
	}
	cn.events = append(cn.events, Issued{
		EventMeta:         kernel.EventMeta{ID: kernel.NewEventID(), Tenant: cn.tenant, Version: 1, OccurredAt: now},
		CreditNoteID:      id,
		Number:            number,
		InvoiceID:         cn.invoiceID,
		InvoiceNumber:     cn.invoiceNumber,
		Currency:          cn.currency,
		Lines:             lineData(cn.lines),
		Amount:            req.amount.Amount(),
		PrePaymentAmount:  alloc.PrePayment.Amount(),
		PostPaymentAmount: alloc.PostPayment.Amount(),
		Reason:            req.reason,
		Memo:              req.memo,
		IssuedAt:          now,
	})
	return cn, nil
}

// ID returns the credit note's id.
func (cn *CreditNote) ID() ID { return cn.id }

// Tenant returns the owning tenant.
func (cn *CreditNote) Tenant() kernel.TenantID { return cn.tenant }

// InvoiceID returns the invoice credited.
func (cn *CreditNote) InvoiceID() invoice.ID { return cn.invoiceID }

// InvoiceNumber returns the number of the invoice credited.
func (cn *CreditNote) InvoiceNumber() string { return cn.invoiceNumber }

// Number returns the credit note's number, e.g. CN-2026-000001.
func (cn *CreditNote) Number() string { return cn.number }

// Currency returns the currency, the invoice's.
func (cn *CreditNote) Currency() kernel.Currency { return cn.currency }

// Lines returns a copy of the lines; none if the credit note was issued for
// an amount alone.
func (cn *CreditNote) Lines() []Line { return append([]Line(nil), cn.lines...) }

// Amount returns the amount credited.
func (cn *CreditNote) Amount() kernel.Money { return cn.amount }

// Allocation returns how the amount fell on the invoice: pre-payment credit
// (it lowered the amount due) and post-payment credit (refund due).
func (cn *CreditNote) Allocation() invoice.CreditAllocation { return cn.alloc }

// Reason returns why the credit note was issued.
func (cn *CreditNote) Reason() Reason { return cn.reason }

// Memo returns the free text shown on the credit note, or "".
func (cn *CreditNote) Memo() string { return cn.memo }

// IssuedAt returns when the credit note was issued.
func (cn *CreditNote) IssuedAt() time.Time { return cn.issuedAt }

// Version returns the number of events the credit note recorded: 1.
func (cn *CreditNote) Version() int64 { return cn.version }

// PullEvents returns the events recorded since the last pull, in order, and
// forgets them. The repository calls it when saving.
func (cn *CreditNote) PullEvents() []Event {
	ev := cn.events
	cn.events = nil
	return ev
}
