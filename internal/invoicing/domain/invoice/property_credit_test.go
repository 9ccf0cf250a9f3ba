package invoice_test

import (
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// credit issues a credit of a random amount, sometimes too much or in
// another currency; the model says what must happen and what it allocates.
func (m *machine) credit(t *rapid.T) {
	currency := rapid.SampledFrom([]kernel.Currency{eur, eur, eur, "USD"}).Draw(t, "currency")
	total, due := m.inv.Total().Amount(), m.inv.AmountDue().Amount()
	left := total - m.inv.AmountCredited().Amount()
	over := min(left, maxI-2) + 1 // just above what is left, without wrapping
	amount := rapid.OneOf(rapid.SampledFrom([]int64{due, left, over, max(due/2, 1), 0, -1}),
		rapid.Int64Range(-1, over)).Draw(t, "amount")
	var want error
	wantTypes := []string{invoice.TypeCredited}
	switch {
	case m.inv.Status() != invoice.StatusOpen && m.inv.Status() != invoice.StatusPaid && m.inv.Status() != invoice.StatusUncollectible:
		want = invoice.ErrInvalidTransition
	case currency != eur:
		want = kernel.ErrCurrencyMismatch
	case amount <= 0:
		want = invoice.ErrInvalidAmount
	case amount > left:
		want = invoice.ErrCreditExceedsTotal
	case m.inv.Status() != invoice.StatusPaid && amount >= due:
		wantTypes = append(wantTypes, invoice.TypePaid)
	}
	if want != nil {
		wantTypes = nil
	}
	var alloc invoice.CreditAllocation
	m.run(t, want, wantTypes, func(now time.Time) (err error) {
		amt, err := kernel.NewMoney(amount, currency)
		if err != nil {
			return err
		}
		alloc, err = m.inv.Credit(uuid.New(), "CN-1", amt, now)
		return err
	})
	if want == nil {
		m.credited += amount
		if pre := min(amount, due); alloc.PrePayment.Amount() != pre || alloc.PostPayment.Amount() != amount-pre {
			t.Fatalf("credit %d with %d due allocated %d + %d", amount, due, alloc.PrePayment.Amount(), alloc.PostPayment.Amount())
		}
	}
}

// checkCredit checks what holds of credit after every command: the model's
// credited sum, never above the total, split into pre-payment credit and
// refund due, the refund never above what was paid.
func (m *machine) checkCredit(t *rapid.T) {
	inv := m.inv
	total, paid := inv.Total().Amount(), inv.AmountPaid().Amount()
	credited, pre, refund := inv.AmountCredited().Amount(), inv.PrePaymentCredit().Amount(), inv.RefundDue().Amount()
	if credited != m.credited || credited > total || pre < 0 || refund < 0 || pre+refund != credited || refund > paid {
		t.Fatalf("credited %d (model %d) = %d pre + %d post, total %d, paid %d", credited, m.credited, pre, refund, total, paid)
	}
}
