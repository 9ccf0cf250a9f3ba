package invoice_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// TestTotalsAgreeWithGetters checks that Totals computes in one call what the
// single getters do.
func TestTotalsAgreeWithGetters(t *testing.T) {
	for _, st := range states {
		inv := given(t, st)
		want := invoice.Totals{Subtotal: inv.Subtotal(), Tax: inv.Tax(), Total: inv.Total(),
			AmountPaid: inv.AmountPaid(), AmountDue: inv.AmountDue()}
		if got := inv.Totals(); got != want {
			t.Errorf("%s: Totals() = %+v, want %+v", st, got, want)
		}
	}
}

// bigOpen returns an open invoice with invoice.MaxLines lines, its events pulled.
func bigOpen(b *testing.B) *invoice.Invoice {
	b.Helper()
	lines := make([]invoice.LineInput, invoice.MaxLines)
	for i := range lines {
		lines[i] = invoice.LineInput{Description: fmt.Sprintf("line %d", i), Quantity: 3, UnitAmount: 1999, TaxRateBPS: 2000}
	}
	inv, err := invoice.New(invoice.NewID(), tenant, eur, customer, time.Time{}, lines, t0)
	must(b, err)
	must(b, inv.Issue("INV-1", t0))
	inv.PullEvents()
	return inv
}

// BenchmarkPay500Lines is one partial payment on an invoice of 500 lines: the
// amount-due checks and the event Pay records.
func BenchmarkPay500Lines(b *testing.B) {
	inv := bigOpen(b)
	amount := money(b, 1, eur)
	b.ReportAllocs()
	for b.Loop() {
		c := *inv // the same invoice each time: no payment accumulates
		must(b, c.Pay(amount, "ref-1", t0))
	}
}
