package invoice_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Credit on every state, from the invoice of given (total 1200): what it
// allocates, what the invoice's amounts and status become, which events.
func TestCredit(t *testing.T) {
	for _, tc := range []struct {
		name, state string
		before      int64 // credited first, on the same invoice
		amount      int64
		want        error
		pre, post   int64
		due, refund int64
		status      invoice.Status
		events      []string
	}{
		{name: "open, part of what is due", state: "open", amount: 200, pre: 200, due: 1000, status: invoice.StatusOpen,
			events: []string{invoice.TypeCredited}},
		{name: "open, all that is due settles it", state: "open", amount: 1200, pre: 1200, status: invoice.StatusPaid,
			events: []string{invoice.TypeCredited, invoice.TypePaid}},
		{name: "partly paid, below due", state: "partly_paid", amount: 300, pre: 300, due: 400, status: invoice.StatusOpen,
			events: []string{invoice.TypeCredited}},
		{name: "partly paid, beyond due: the rest is owed back", state: "partly_paid", amount: 1000, pre: 700, post: 300,
			refund: 300, status: invoice.StatusPaid, events: []string{invoice.TypeCredited, invoice.TypePaid}},
		{name: "paid: all post-payment", state: "paid", amount: 500, post: 500, refund: 500, status: invoice.StatusPaid,
			events: []string{invoice.TypeCredited}},
		{name: "paid, up to the total", state: "paid", before: 700, amount: 500, post: 500, refund: 1200, status: invoice.StatusPaid,
			events: []string{invoice.TypeCredited}},
		{name: "beyond the total", state: "paid", before: 700, amount: 501, want: invoice.ErrCreditExceedsTotal},
		{name: "open, beyond the total", state: "open", amount: 1201, want: invoice.ErrCreditExceedsTotal},
		{name: "zero", state: "open", amount: 0, want: invoice.ErrInvalidAmount},
		{name: "negative", state: "paid", amount: -1, want: invoice.ErrInvalidAmount},
		{name: "uncollectible, part of what is due", state: "uncollectible", amount: 200, pre: 200, due: 1000,
			status: invoice.StatusUncollectible, events: []string{invoice.TypeCredited}},
		{name: "partly paid uncollectible, beyond due settles it", state: "partly_uncollectible", amount: 1000, pre: 700,
			post: 300, refund: 300, status: invoice.StatusPaid, events: []string{invoice.TypeCredited, invoice.TypePaid}},
		{name: "void after a write-off", state: "void_uncollectible", amount: 100, want: invoice.ErrInvalidTransition},
		{name: "draft", state: "draft", amount: 100, want: invoice.ErrInvalidTransition},
		{name: "void", state: "void", amount: 100, want: invoice.ErrInvalidTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := given(t, tc.state)
			if tc.before > 0 {
				_, err := inv.Credit(uuid.New(), "CN-0", money(t, tc.before, eur), t0)
				must(t, err)
				inv.PullEvents()
			}
			before := observe(inv)
			alloc, err := inv.Credit(uuid.New(), "CN-1", money(t, tc.amount, eur), t1)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				assertUnchanged(t, before, inv)
				return
			}
			if alloc.PrePayment.Amount() != tc.pre || alloc.PostPayment.Amount() != tc.post {
				t.Errorf("allocated %d + %d, want %d + %d", alloc.PrePayment.Amount(), alloc.PostPayment.Amount(), tc.pre, tc.post)
			}
			tot := inv.Totals()
			if tot.AmountDue.Amount() != tc.due || tot.RefundDue.Amount() != tc.refund || inv.Status() != tc.status ||
				tot.AmountCredited.Amount() != tc.before+tc.amount {
				t.Errorf("due %d refund %d credited %d status %s, want %d %d %d %s", tot.AmountDue.Amount(), tot.RefundDue.Amount(),
					tot.AmountCredited.Amount(), inv.Status(), tc.due, tc.refund, tc.before+tc.amount, tc.status)
			}
			evs := inv.PullEvents()
			if got := typesOf(evs); !slices.Equal(got, tc.events) {
				t.Fatalf("events %v, want %v", got, tc.events)
			}
			e := evs[0].(invoice.InvoiceCredited)
			if e.Amount != tc.amount || e.AmountDue != tc.due || e.RefundDue != tc.refund || e.PrePaymentAmount != tc.pre ||
				e.CreditNoteNumber != "CN-1" || e.Meta().Version != before.Snapshot.Version+1 {
				t.Errorf("event %+v", e)
			}
			if (tc.status == invoice.StatusPaid) != !inv.PaidAt().IsZero() {
				t.Errorf("status %s, paid at %v", inv.Status(), inv.PaidAt())
			}
			if _, err := invoice.Rehydrate(snapshotOf(inv)); err != nil {
				t.Errorf("Rehydrate after credit: %v", err)
			}
		})
	}
}

func TestCreditRefusesAnotherCurrency(t *testing.T) {
	inv := given(t, "open")
	before := observe(inv)
	if _, err := inv.Credit(uuid.New(), "CN-1", money(t, 100, "USD"), t1); !errors.Is(err, kernel.ErrCurrencyMismatch) {
		t.Fatalf("err = %v", err)
	}
	assertUnchanged(t, before, inv)
}

// Pre-payment credit lowers what a payment may settle; a payment of the rest
// makes the invoice paid.
func TestPaymentAfterCreditSettlesTheRest(t *testing.T) {
	inv := given(t, "open")
	_, err := inv.Credit(uuid.New(), "CN-1", money(t, 200, eur), t1)
	must(t, err)
	if err := inv.Pay(money(t, 1001, eur), "p1", t1); !errors.Is(err, invoice.ErrOverpayment) {
		t.Fatalf("paying past the credited due: %v", err)
	}
	inv.PullEvents()
	must(t, inv.Pay(money(t, 1000, eur), "p1", t1))
	if inv.Status() != invoice.StatusPaid || inv.AmountDue().Amount() != 0 {
		t.Fatalf("status %s, due %d", inv.Status(), inv.AmountDue().Amount())
	}
	// The paid event says what settled the invoice: its receipt needs it.
	evs := inv.PullEvents()
	paid, ok := evs[len(evs)-1].(invoice.InvoicePaid)
	if !ok || paid.AmountPaid != 1000 || paid.PrePaymentCredit != 200 || paid.Total != 1200 {
		t.Fatalf("last event %+v, want paid with 1000 paid and 200 pre-payment credit of 1200", evs[len(evs)-1])
	}
}

func TestVoidRefusesACreditedInvoice(t *testing.T) {
	inv := given(t, "open")
	_, err := inv.Credit(uuid.New(), "CN-1", money(t, 200, eur), t1)
	must(t, err)
	inv.PullEvents()
	before := observe(inv)
	if err := inv.Void("wrong customer", t1); !errors.Is(err, invoice.ErrInvalidTransition) {
		t.Fatalf("err = %v", err)
	}
	assertUnchanged(t, before, inv)
}

// Rehydrate refuses stored credit that no sequence of commands produces.
func TestRehydrateRefusesImpossibleCredit(t *testing.T) {
	for name, edit := range map[string]func(*invoice.Snapshot){
		"negative pre-payment credit":  func(s *invoice.Snapshot) { s.PrePaymentCredit = -1 },
		"negative post-payment credit": func(s *invoice.Snapshot) { s.PostPaymentCredit = -1 },
		"credit beyond what was due":   func(s *invoice.Snapshot) { s.PrePaymentCredit = 701 },
		"refund beyond what was paid":  func(s *invoice.Snapshot) { s.PostPaymentCredit = 501 },
		"open with nothing due":        func(s *invoice.Snapshot) { s.PrePaymentCredit = 700 },
	} {
		t.Run(name, func(t *testing.T) {
			s := snapshotOf(given(t, "partly_paid"))
			edit(&s)
			if _, err := invoice.Rehydrate(s); !errors.Is(err, invoice.ErrCorruptInvoice) {
				t.Fatalf("err = %v, want ErrCorruptInvoice", err)
			}
		})
	}
	s := snapshotOf(given(t, "draft"))
	s.PrePaymentCredit = 1
	if _, err := invoice.Rehydrate(s); !errors.Is(err, invoice.ErrCorruptInvoice) {
		t.Fatalf("draft with credit: err = %v", err)
	}
}
