package invoice_test

import (
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice/invoicetest"
)

// TestTotalsByHand checks Totals and each getter against figures worked out by
// hand from the fixtures, so a wrong sum fails however it is computed.
func TestTotalsByHand(t *testing.T) {
	// consulting: 2 × 500 = 1000, 20% tax 200. rounded: 3 × 333 = 999,
	// 7.5% tax 74.925, rounded half-up to 75.
	rounded := invoice.LineInput{Description: "Widgets", Quantity: 3, UnitAmount: 333, TaxRateBPS: 750}
	twoLines := newDraft(t, consulting, rounded)
	tests := []struct {
		name string
		inv  *invoice.Invoice
		want [5]int64 // subtotal, tax, total, paid, due
	}{
		{"draft", given(t, "draft"), [5]int64{1000, 200, 1200, 0, 1200}},
		{"open", given(t, "open"), [5]int64{1000, 200, 1200, 0, 1200}},
		{"partly_paid", given(t, "partly_paid"), [5]int64{1000, 200, 1200, 500, 700}},
		{"paid", given(t, "paid"), [5]int64{1000, 200, 1200, 1200, 0}},
		{"void", given(t, "void"), [5]int64{1000, 200, 1200, 0, 1200}},
		{"two lines, tax rounded half-up", twoLines, [5]int64{1999, 275, 2274, 0, 2274}},
	}
	for _, tt := range tests {
		inv := tt.inv
		tot := inv.Totals()
		fromTotals := [5]int64{tot.Subtotal.Amount(), tot.Tax.Amount(), tot.Total.Amount(), tot.AmountPaid.Amount(), tot.AmountDue.Amount()}
		fromGetters := [5]int64{inv.Subtotal().Amount(), inv.Tax().Amount(), inv.Total().Amount(), inv.AmountPaid().Amount(), inv.AmountDue().Amount()}
		if fromTotals != tt.want || fromGetters != tt.want {
			t.Errorf("%s: Totals() %v, getters %v; want %v (subtotal, tax, total, paid, due)", tt.name, fromTotals, fromGetters, tt.want)
		}
		if tot.Total.Currency() != eur || tot.AmountDue.Currency() != eur {
			t.Errorf("%s: totals in %s, want %s", tt.name, tot.Total.Currency(), eur)
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
