package invoice

import (
	"strings"
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// CanIssue returns nil if the invoice can be issued now, ErrInvalidTransition
// unless it is a draft, or ErrEmptyInvoice if its total is not positive (an
// open invoice must have something due). Issue applies the same rules; a
// caller checks first so it takes a number from the tenant's counter only for
// an issue that will succeed.
func (inv *Invoice) CanIssue() error {
	if inv.status != StatusDraft {
		return ErrInvalidTransition.With("", "only a draft invoice can be issued; this one is %s", inv.status)
	}
	if inv.Total().Amount() <= 0 {
		return ErrEmptyInvoice.With("lines", "an invoice needs lines with a positive total to be issued")
	}
	return nil
}

// Issue gives a draft invoice its number, makes it open and records
// InvoiceIssued. The number comes from the caller (the tenant's gapless
// counter). It fails with the errors of CanIssue, and with ErrInvalidNumber
// for a blank number.
func (inv *Invoice) Issue(number string, now time.Time) error {
	if err := inv.CanIssue(); err != nil {
		return err
	}
	if !kernel.ValidText(number, maxInvoiceNumber) || strings.TrimSpace(number) != number {
		return ErrInvalidNumber.With("number", "invoice number %q is invalid", number)
	}
	t := inv.Totals()
	now = now.UTC()
	inv.number = number
	inv.status = StatusOpen
	inv.issuedAt = now
	inv.record(InvoiceIssued{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Number:     number,
		Currency:   inv.currency,
		Customer:   inv.customer,
		DueDate:    inv.dueDateText(),
		Lines:      eventLines(inv.lines),
		LineCount:  len(inv.lines),
		Subtotal:   t.Subtotal.Amount(),
		Tax:        t.Tax.Amount(),
		Total:      t.Total.Amount(),
		AmountDue:  t.AmountDue.Amount(),
		Metadata:   inv.Metadata(),
		IssuedAt:   now,
	})
	return nil
}

// Void cancels an open or uncollectible invoice that has received no payment
// and records InvoiceVoided. It fails with ErrInvalidReason for a blank or
// over-long reason and with ErrInvalidTransition if the invoice is neither
// open nor uncollectible or has payments or credit notes (refunds are out of
// scope).
func (inv *Invoice) Void(reason string, now time.Time) error {
	if !kernel.ValidText(reason, MaxReason) {
		return ErrInvalidReason.With("reason", "reason is required, at most %d characters, without control characters", MaxReason)
	}
	if !inv.collectible() {
		return ErrInvalidTransition.With("", "only an open or uncollectible invoice can be voided; this one is %s", inv.status)
	}
	if len(inv.payments) > 0 {
		return ErrInvalidTransition.With("", "an invoice with payments cannot be voided")
	}
	if inv.creditPre+inv.creditPost > 0 {
		return ErrInvalidTransition.With("", "an invoice with credit notes cannot be voided")
	}
	now = now.UTC()
	inv.status = StatusVoid
	inv.voidedAt = now
	inv.voidReason = reason
	inv.record(InvoiceVoided{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Number:     inv.number,
		Reason:     reason,
		Metadata:   inv.Metadata(),
		VoidedAt:   now,
	})
	return nil
}
