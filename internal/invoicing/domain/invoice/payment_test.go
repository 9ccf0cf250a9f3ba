package invoice_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

func TestPartialPaymentsThenFinal(t *testing.T) {
	inv := given(t, "open") // 1200 due
	steps := []struct {
		amount, paid, due int64
		ref               string
		status            invoice.Status
		events            []string
	}{
		{300, 300, 900, "pay-1", invoice.StatusOpen, []string{invoice.TypePaymentRecorded}},
		{400, 700, 500, "pay-2", invoice.StatusOpen, []string{invoice.TypePaymentRecorded}},
		{500, 1200, 0, "pay-3", invoice.StatusPaid, []string{invoice.TypePaymentRecorded, invoice.TypePaid}},
	}
	paidEvents := 0
	for i, s := range steps {
		now := t1.Add(time.Duration(i) * time.Minute)
		must(t, inv.Pay(money(t, s.amount, eur), s.ref, now))
		if inv.AmountPaid().Amount() != s.paid || inv.AmountDue().Amount() != s.due || inv.Status() != s.status {
			t.Fatalf("after %s: paid %d due %d status %s; want %d %d %s", s.ref,
				inv.AmountPaid().Amount(), inv.AmountDue().Amount(), inv.Status(), s.paid, s.due, s.status)
		}
		evs := inv.PullEvents()
		if got := typesOf(evs); !slices.Equal(got, s.events) {
			t.Fatalf("after %s: events %v, want %v", s.ref, got, s.events)
		}
		r := evs[0].(invoice.PaymentRecorded)
		if r.Amount != s.amount || r.AmountPaid != s.paid || r.AmountDue != s.due || r.Reference != s.ref ||
			r.Number != "INV-1" || r.Currency != eur || !r.ReceivedAt.Equal(now) {
			t.Errorf("payment event %+v", r)
		}
		if pays := inv.Payments(); len(pays) != i+1 || pays[i].Reference != s.ref || pays[i].Amount.Amount() != s.amount ||
			uuid.UUID(pays[i].ID).Version() != 7 {
			t.Errorf("payments %+v", pays)
		}
		for _, e := range evs {
			if p, ok := e.(invoice.InvoicePaid); ok {
				paidEvents++
				if p.Total != 1200 || p.AmountPaid != 1200 || !p.PaidAt.Equal(now) || p.Number != "INV-1" || p.Customer != customer {
					t.Errorf("paid event %+v", p)
				}
			}
		}
	}
	if !inv.PaidAt().Equal(t1.Add(2 * time.Minute)) {
		t.Errorf("paid at %v", inv.PaidAt())
	}
	// Every later payment, replayed or new, is refused or ignored: InvoicePaid stays unique.
	_ = inv.Pay(money(t, 500, eur), "pay-3", t1)
	_ = inv.Pay(money(t, 1, eur), "pay-4", t1)
	for _, e := range inv.PullEvents() {
		if e.Type() == invoice.TypePaid {
			paidEvents++
		}
	}
	if paidEvents != 1 {
		t.Errorf("%d InvoicePaid events, want exactly 1", paidEvents)
	}
}

func TestPayReplayIsIdempotent(t *testing.T) {
	tests := []struct {
		state  string
		amount int64
	}{
		{"partly_paid", 500}, // pay-1 paid 500
		{"paid", 1200},       // pay-1 paid 1200
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			inv := given(t, tt.state)
			before := observe(inv)
			for range 3 {
				if err := inv.Pay(money(t, tt.amount, eur), "pay-1", t1); err != nil {
					t.Fatalf("replay: %v, want nil", err)
				}
			}
			assertUnchanged(t, before, inv)
		})
	}
}

func TestPayReferenceConflict(t *testing.T) {
	for _, st := range []string{"partly_paid", "paid"} {
		t.Run(st, func(t *testing.T) {
			inv := given(t, st)
			before := observe(inv)
			err := inv.Pay(money(t, 1, eur), "pay-1", t1)
			if !errors.Is(err, invoice.ErrReferenceConflict) || failure.KindOf(err) != failure.Conflict {
				t.Fatalf("err = %v, want ErrReferenceConflict", err)
			}
			assertUnchanged(t, before, inv)
		})
	}
}

func TestPayRejects(t *testing.T) {
	tests := []struct {
		name   string
		state  string
		amount kernel.Money
		ref    string
		want   error
	}{
		{"one over the total", "open", money(t, 1201, eur), "r", invoice.ErrOverpayment},
		{"one over the amount due", "partly_paid", money(t, 701, eur), "r", invoice.ErrOverpayment},
		{"max int64", "partly_paid", money(t, 1<<63-1, eur), "r", invoice.ErrOverpayment},
		{"other currency", "open", money(t, 100, "USD"), "r", kernel.ErrCurrencyMismatch},
		{"zero-exponent currency", "open", money(t, 100, "JPY"), "r", kernel.ErrCurrencyMismatch},
		{"zero Money", "open", kernel.Money{}, "r", kernel.ErrCurrencyMismatch},
		{"zero", "open", money(t, 0, eur), "r", invoice.ErrInvalidAmount},
		{"negative", "partly_paid", money(t, -1, eur), "r", invoice.ErrInvalidAmount},
		{"empty reference", "open", money(t, 100, eur), "", invoice.ErrInvalidReference},
		{"blank reference", "open", money(t, 100, eur), "  ", invoice.ErrInvalidReference},
		{"control in reference", "open", money(t, 100, eur), "r\n1", invoice.ErrInvalidReference},
		{"256-rune reference", "open", money(t, 100, eur), strings.Repeat("ß", 256), invoice.ErrInvalidReference},
		{"draft", "draft", money(t, 100, eur), "r", invoice.ErrInvalidTransition},
		{"void", "void", money(t, 100, eur), "r", invoice.ErrInvalidTransition},
		{"paid", "paid", money(t, 100, eur), "r", invoice.ErrInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := given(t, tt.state)
			before := observe(inv)
			if err := inv.Pay(tt.amount, tt.ref, t1); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			assertUnchanged(t, before, inv)
		})
	}
}

func TestPayAcceptsLimits(t *testing.T) {
	tests := []struct {
		name, state, ref string
		amount           int64
		status           invoice.Status
	}{
		{"one minor unit", "open", "r", 1, invoice.StatusOpen},
		{"exactly the amount due", "partly_paid", "r", 700, invoice.StatusPaid},
		{"255-rune reference", "open", strings.Repeat("ß", 255), 100, invoice.StatusOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := given(t, tt.state)
			must(t, inv.Pay(money(t, tt.amount, eur), tt.ref, t1))
			if inv.Status() != tt.status {
				t.Errorf("status %s, want %s", inv.Status(), tt.status)
			}
		})
	}
}

// The last payment an invoice takes must pay what is due: were it partial,
// the rest could never be paid, and the invoice would stay open for good
// with money owed that no payment can record.
func TestPayRefusesPaymentsBeyondMaxPayments(t *testing.T) {
	inv := given(t, "open") // 1200 due
	for i := range invoice.MaxPayments - 1 {
		must(t, inv.Pay(money(t, 1, eur), fmt.Sprintf("pay-%d", i), t1))
	}
	inv.PullEvents()
	version := inv.Version()
	if err := inv.Pay(money(t, 1, eur), "pay-last", t1); !errors.Is(err, invoice.ErrTooManyPayments) || !slices.Equal(fieldsOf(err), []string{"amount"}) {
		t.Fatalf("partial payment %d: %v, want ErrTooManyPayments naming amount", invoice.MaxPayments, err)
	}
	if err := inv.Pay(money(t, 1, eur), "pay-3", t1); err != nil {
		t.Fatalf("retry of a recorded payment at the limit: %v, want the no-op nil", err)
	}
	if n := len(inv.Payments()); n != invoice.MaxPayments-1 || inv.Version() != version || len(inv.PullEvents()) != 0 {
		t.Errorf("after refusals: %d payments, version %d (want %d), events recorded", n, inv.Version(), version)
	}
	must(t, inv.Pay(inv.AmountDue(), "pay-last", t1))
	if inv.Status() != invoice.StatusPaid || len(inv.Payments()) != invoice.MaxPayments {
		t.Errorf("payment %d of what is due: status %s with %d payments", invoice.MaxPayments, inv.Status(), len(inv.Payments()))
	}
}
