package invoice

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Payment is money received against an invoice. Reference is the payment
// provider's transaction id, unique per invoice.
type Payment struct {
	ID         PaymentID
	Amount     kernel.Money
	Reference  string
	ReceivedAt time.Time
}

// Pay records a payment against an open or uncollectible invoice and records PaymentRecorded;
// the payment that brings the amount due to zero also makes the invoice paid
// and records InvoicePaid (once per invoice, since a paid invoice takes no more
// payments).
//
// A reference already recorded with the same amount is an idempotent no-op: it
// returns nil and records nothing, whatever the status now is. With a different
// amount it fails with ErrReferenceConflict. Otherwise it fails with
// ErrInvalidAmount (not positive), kernel.ErrCurrencyMismatch, ErrInvalidReference,
// ErrInvalidTransition (neither open nor uncollectible), ErrTooManyPayments (MaxPayments recorded
// already, which keeps one invoice's response and rows small, or a MaxPayments-th
// payment below the amount due, which would leave it unpayable) or ErrOverpayment
// (over the amount due).
func (inv *Invoice) Pay(amount kernel.Money, reference string, now time.Time) error {
	if !kernel.ValidText(reference, MaxReference) {
		return ErrInvalidReference.With("reference", "reference is required, at most %d characters, without control characters", MaxReference)
	}
	if amount.Currency() != inv.currency {
		return kernel.ErrCurrencyMismatch.With("amount", "payment is in %s but the invoice is in %s", amount.Currency(), inv.currency)
	}
	if amount.Amount() <= 0 {
		return ErrInvalidAmount.With("amount", "amount must be positive")
	}
	for _, p := range inv.payments {
		if p.Reference != reference {
			continue
		}
		if p.Amount == amount {
			return nil
		}
		return ErrReferenceConflict.With("reference", "reference %q was already used for %d, not %d", reference, p.Amount.Amount(), amount.Amount())
	}
	if !inv.collectible() {
		return ErrInvalidTransition.With("", "only an open or uncollectible invoice can be paid; this one is %s", inv.status)
	}
	if len(inv.payments) >= MaxPayments {
		return ErrTooManyPayments.With("", "an invoice takes at most %d payments", MaxPayments)
	}
	t := inv.Totals()
	if amount.Amount() > t.AmountDue.Amount() {
		return ErrOverpayment.With("amount", "amount %d exceeds the amount due %d", amount.Amount(), t.AmountDue.Amount())
	}
	// The last payment must settle: a partial one would leave an amount due
	// that no payment could ever record.
	if len(inv.payments) == MaxPayments-1 && amount.Amount() != t.AmountDue.Amount() {
		return ErrTooManyPayments.With("amount", "an invoice takes at most %d payments; this last one must pay the %d due", MaxPayments, t.AmountDue.Amount())
	}

	now = now.UTC()
	p := Payment{ID: PaymentID(newUUID()), Amount: amount, Reference: reference, ReceivedAt: now}
	inv.payments = append(inv.payments, p)
	// Cannot overflow: amount is at most what was due.
	paid, _ := t.AmountPaid.Add(amount)
	due, _ := t.AmountDue.Sub(amount)
	inv.record(PaymentRecorded{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Number:     inv.number,
		PaymentID:  p.ID,
		Currency:   inv.currency,
		Amount:     amount.Amount(),
		Reference:  reference,
		AmountPaid: paid.Amount(),
		AmountDue:  due.Amount(),
		ReceivedAt: now,
	})
	if due.IsZero() {
		inv.settle(t.Total, paid, now)
	}
	return nil
}

// settle makes the invoice paid at now, nothing being due any more, and
// records InvoicePaid with its total and what was paid (below the total
// when credit notes made up the rest).
func (inv *Invoice) settle(total, paid kernel.Money, now time.Time) {
	inv.status = StatusPaid
	inv.paidAt = now
	inv.record(InvoicePaid{
		EventMeta:  inv.nextMeta(now),
		InvoiceRef: InvoiceRef{InvoiceID: inv.id},
		Number:     inv.number,
		Customer:   inv.customer,
		Currency:   inv.currency,
		Total:      total.Amount(),
		AmountPaid: paid.Amount(),
		// Settled means nothing is due: what payments left, credit covered.
		PrePaymentCredit: inv.creditPre,
		Metadata:         inv.Metadata(),
		PaidAt:           now,
	})
}
