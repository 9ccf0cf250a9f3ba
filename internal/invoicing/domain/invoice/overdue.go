package invoice

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// TypeOverdue is the event type of InvoiceOverdue.
const TypeOverdue = "invoice.overdue"

// InvoiceOverdue: an open or uncollectible invoice passed its due date
// unpaid. Raised at most once per invoice, by whatever asks the invoice
// (MarkOverdue) after its due date; OverdueAt is when it became overdue, the
// same whenever that was noticed.
type InvoiceOverdue struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number    string          `json:"number"`
	Customer  Customer        `json:"customer"`
	Currency  kernel.Currency `json:"currency"`
	DueDate   string          `json:"due_date"`
	AmountDue int64           `json:"amount_due"`
	Metadata  Metadata        `json:"metadata,omitempty"`
	OverdueAt time.Time       `json:"overdue_at"`
}

// Type returns "invoice.overdue".
func (InvoiceOverdue) Type() string { return TypeOverdue }

// MarkOverdue records InvoiceOverdue and returns true if, at now, the
// invoice is overdue and was not recorded so yet: it is open or
// uncollectible, and its due date (a whole day, in UTC) has passed.
// Otherwise it records nothing and returns false: it is a question the
// passage of time asks (a scheduled job), not a caller's command, and asking
// twice, or about an invoice paid meanwhile, must be harmless. It cannot fail.
//
// The invoice became overdue at the end of its due date, or when it was
// issued if that was later; that moment, not now, is OverdueAt, so a late or
// repeated job records the same fact.
func (inv *Invoice) MarkOverdue(now time.Time) bool {
	if !inv.collectible() || inv.dueDate.IsZero() || !inv.overdueAt.IsZero() {
		return false
	}
	now = now.UTC()
	at := inv.dueDate.AddDate(0, 0, 1)
	if now.Before(at) {
		return false
	}
	if inv.issuedAt.After(at) {
		at = inv.issuedAt
	}
	inv.overdueAt = at
	inv.record(InvoiceOverdue{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Number:     inv.number,
		Customer:   inv.customer,
		Currency:   inv.currency,
		DueDate:    inv.dueDateText(),
		AmountDue:  inv.AmountDue().Amount(),
		Metadata:   inv.Metadata(),
		OverdueAt:  at,
	})
	return true
}

// Overdue reports whether the invoice is overdue: recorded so (MarkOverdue)
// and still open or uncollectible. A paid or voided invoice is not, though
// OverdueAt still says when it was.
func (inv *Invoice) Overdue() bool { return !inv.overdueAt.IsZero() && inv.collectible() }

// OverdueAt returns when the invoice became overdue, or the zero time if it
// was never recorded so.
func (inv *Invoice) OverdueAt() time.Time { return inv.overdueAt }
