package invoice_test

import (
	"testing"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice/invoicetest"
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

// BenchmarkPay500Lines is one partial payment on an invoice of 500 lines: the
// amount-due checks and the event Pay records.
func BenchmarkPay500Lines(b *testing.B) {
	inv := invoicetest.Full(b, 0)
	amount := money(b, 1, eur)
	b.ReportAllocs()
	for b.Loop() {
		c := *inv // the same invoice each time: no payment accumulates
		must(b, c.Pay(amount, "ref-1", t0))
	}
}
