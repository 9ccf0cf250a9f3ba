package invoice

import (
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// CreditAllocation is how a credit note's amount falls on an invoice: the
// part that reduced what was still due (pre-payment credit) and the part
// beyond it, owed back to the customer (post-payment credit, refund due).
type CreditAllocation struct {
	PrePayment  kernel.Money
	PostPayment kernel.Money
}

// creditable reports whether an invoice in status s takes credit notes: one
// that was issued and not voided (an uncollectible one is still owed).
func creditable(s Status) bool {
	return s == StatusOpen || s == StatusPaid || s == StatusUncollectible
}

// CanCredit returns nil if a credit note of amount can be issued against
// the invoice now. It fails with ErrInvalidTransition unless the invoice is
// open, paid or uncollectible, kernel.ErrCurrencyMismatch, ErrInvalidAmount (not positive) or
// ErrCreditExceedsTotal (the invoice's credited total would pass its total).
// Credit applies the same rules; a caller checks first so it takes a credit
// note number from the tenant's counter only for a credit that will succeed.
func (inv *Invoice) CanCredit(amount kernel.Money) error {
	if !creditable(inv.status) {
		return ErrInvalidTransition.With("", "only an open, paid or uncollectible invoice can be credited; this one is %s", inv.status)
	}
	if amount.Currency() != inv.currency {
		return kernel.ErrCurrencyMismatch.With("amount", "credit is in %s but the invoice is in %s", amount.Currency(), inv.currency)
	}
	if amount.Amount() <= 0 {
		return ErrInvalidAmount.With("amount", "amount must be positive")
	}
	t := inv.Totals()
	if left := t.Total.Amount() - t.AmountCredited.Amount(); amount.Amount() > left {
		return ErrCreditExceedsTotal.With("amount", "amount %d exceeds the %d of the invoice's total not yet credited", amount.Amount(), left)
	}
	return nil
}

// Credit applies a credit note of amount (its id and number given by the
// caller) to the invoice and records InvoiceCredited: the credit first
// reduces the amount due, and what exceeds it becomes refund due. If it
// settles what was due, the invoice becomes paid and records InvoicePaid
// too. It returns the allocation, which the credit note keeps. It fails with
// the errors of CanCredit and changes nothing then.
//
// The invoice owns its credited total, so the rule "never credited beyond
// its total" is checked here, on the invoice's version, in the transaction
// that stores the credit note: two concurrent credit notes cannot both pass
// it (docs/architecture.md, "Credit notes").
func (inv *Invoice) Credit(noteID uuid.UUID, noteNumber string, amount kernel.Money, now time.Time) (CreditAllocation, error) {
	if err := inv.CanCredit(amount); err != nil {
		return CreditAllocation{}, err
	}
	t := inv.Totals()
	pre := min(amount.Amount(), t.AmountDue.Amount())
	alloc := CreditAllocation{PrePayment: minor(pre, inv.currency), PostPayment: minor(amount.Amount()-pre, inv.currency)}
	now = now.UTC()
	inv.creditPre += alloc.PrePayment.Amount()
	inv.creditPost += alloc.PostPayment.Amount()
	after := inv.Totals()
	inv.record(InvoiceCredited{
		EventMeta:         inv.nextMeta(now),
		InvoiceRef:        InvoiceRef{InvoiceID: inv.id},
		Number:            inv.number,
		CreditNoteID:      noteID,
		CreditNoteNumber:  noteNumber,
		Currency:          inv.currency,
		Amount:            amount.Amount(),
		PrePaymentAmount:  alloc.PrePayment.Amount(),
		PostPaymentAmount: alloc.PostPayment.Amount(),
		Total:             after.Total.Amount(),
		AmountPaid:        after.AmountPaid.Amount(),
		AmountCredited:    after.AmountCredited.Amount(),
		AmountDue:         after.AmountDue.Amount(),
		RefundDue:         after.RefundDue.Amount(),
		CreditedAt:        now,
	})
	if inv.status != StatusPaid && after.AmountDue.IsZero() {
		inv.settle(after.Total, after.AmountPaid, now)
	}
	return alloc, nil
}

// AmountCredited returns the sum of the credit notes issued against the
// invoice: pre-payment and post-payment credit together.
func (inv *Invoice) AmountCredited() kernel.Money { return inv.Totals().AmountCredited }

// RefundDue returns the post-payment credit: what the invoice's credit notes
// gave back beyond what was due, owed to the customer.
func (inv *Invoice) RefundDue() kernel.Money { return inv.Totals().RefundDue }

// PrePaymentCredit returns the credit that reduced the amount due.
func (inv *Invoice) PrePaymentCredit() kernel.Money { return minor(inv.creditPre, inv.currency) }

// TypeCredited names InvoiceCredited.
const TypeCredited = "invoice.credited"

// InvoiceCredited: a credit note was issued against the invoice; it carries
// the invoice's amounts after it.
type InvoiceCredited struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number            string          `json:"number"`
	CreditNoteID      uuid.UUID       `json:"credit_note_id"`
	CreditNoteNumber  string          `json:"credit_note_number"`
	Currency          kernel.Currency `json:"currency"`
	Amount            int64           `json:"amount"`
	PrePaymentAmount  int64           `json:"pre_payment_amount"`
	PostPaymentAmount int64           `json:"post_payment_amount"`
	Total             int64           `json:"total"`
	AmountPaid        int64           `json:"amount_paid"`
	AmountCredited    int64           `json:"amount_credited"`
	AmountDue         int64           `json:"amount_due"`
	RefundDue         int64           `json:"refund_due"`
	CreditedAt        time.Time       `json:"credited_at"`
}

// Type returns "invoice.credited".
func (InvoiceCredited) Type() string { return TypeCredited }
