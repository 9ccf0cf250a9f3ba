// Package invoicetest builds invoices for the tests and benchmarks of other
// packages.
package invoicetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// Time is when Full's invoice is created, issued and paid.
var Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Full returns the largest invoice the domain allows: open, in EUR, with
// invoice.MaxLines lines (3 × 19.99 at 20% tax each) and the given number of
// partial payments of 1.00, its events pulled. It fails tb if the domain
// refuses any step.
func Full(tb testing.TB, payments int) *invoice.Invoice {
	tb.Helper()
	lines := make([]invoice.LineInput, invoice.MaxLines)
	for i := range lines {
		lines[i] = invoice.LineInput{Description: fmt.Sprintf("consulting, item %d", i), Quantity: 3, UnitAmount: 1999, TaxRateBPS: 2000}
	}
	inv, err := invoice.New(invoice.NewID(), invoice.TenantID(invoice.NewID()), "EUR",
		invoice.Customer{Name: "ACME", Email: "billing@acme.example"}, Time, lines, Time)
	if err != nil {
		tb.Fatal(err)
	}
	if err := inv.Issue("INV-2026-000001", Time); err != nil {
		tb.Fatal(err)
	}
	one, err := invoice.NewMoney(100, "EUR")
	if err != nil {
		tb.Fatal(err)
	}
	for i := range payments {
		if err := inv.Pay(one, fmt.Sprint("pay-", i), Time); err != nil {
			tb.Fatal(err)
		}
	}
	inv.PullEvents()
	return inv
}
