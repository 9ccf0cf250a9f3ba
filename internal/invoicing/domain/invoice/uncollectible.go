package invoice

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// TypeMarkedUncollectible is the event type of InvoiceMarkedUncollectible.
const TypeMarkedUncollectible = "invoice.marked_uncollectible"

// InvoiceMarkedUncollectible: an open invoice was written off as unlikely to
// be paid. It may still be paid (then InvoicePaid follows) or voided.
type InvoiceMarkedUncollectible struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number                string          `json:"number"`
	Currency              kernel.Currency `json:"currency"`
	Total                 int64           `json:"total"`
	AmountPaid            int64           `json:"amount_paid"`
	AmountDue             int64           `json:"amount_due"`
	Metadata              Metadata        `json:"metadata,omitempty"`
	MarkedUncollectibleAt time.Time       `json:"marked_uncollectible_at"`
}

// Type returns "invoice.marked_uncollectible".
func (InvoiceMarkedUncollectible) Type() string { return TypeMarkedUncollectible }

// MarkUncollectible writes off an open invoice: it becomes uncollectible,
// keeps the payments it received, and can still be paid (a payment of what
// is due makes it paid) or voided. It records InvoiceMarkedUncollectible. It
// fails with ErrInvalidTransition unless the invoice is open.
func (inv *Invoice) MarkUncollectible(now time.Time) error {
	if inv.status != StatusOpen {
		return ErrInvalidTransition.With("", "only an open invoice can be marked uncollectible; this one is %s", inv.status)
	}
	now = now.UTC()
	t := inv.Totals()
	inv.status = StatusUncollectible
	inv.markedUncollectibleAt = now
	inv.record(InvoiceMarkedUncollectible{
		EventMeta:             inv.nextMeta(now),
		InvoiceRef:            InvoiceRef{InvoiceID: inv.id},
		Number:                inv.number,
		Currency:              inv.currency,
		Total:                 t.Total.Amount(),
		AmountPaid:            t.AmountPaid.Amount(),
		AmountDue:             t.AmountDue.Amount(),
		Metadata:              inv.Metadata(),
		MarkedUncollectibleAt: now,
	})
	return nil
}

// MarkedUncollectibleAt returns when the invoice was written off, or the zero
// time. It stays set once the invoice is paid or voided afterwards.
func (inv *Invoice) MarkedUncollectibleAt() time.Time { return inv.markedUncollectibleAt }

// collectible reports whether the invoice takes payments and may be voided:
// it is open or uncollectible.
func (inv *Invoice) collectible() bool {
	return inv.status == StatusOpen || inv.status == StatusUncollectible
}
