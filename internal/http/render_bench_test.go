package http

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// benchInvoice returns an open invoice with invoice.MaxLines lines and 20
// partial payments.
func benchInvoice(b *testing.B) *invoice.Invoice {
	b.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lines := make([]invoice.LineInput, invoice.MaxLines)
	for i := range lines {
		lines[i] = invoice.LineInput{Description: fmt.Sprintf("consulting, item %d", i), Quantity: 3, UnitAmount: 1999, TaxRateBPS: 2000}
	}
	inv, err := invoice.New(invoice.NewID(), invoice.TenantID(invoice.NewID()), "EUR",
		invoice.Customer{Name: "ACME", Email: "billing@acme.example"}, now, lines, now)
	if err != nil {
		b.Fatal(err)
	}
	if err := inv.Issue("INV-2026-000001", now); err != nil {
		b.Fatal(err)
	}
	one, _ := invoice.NewMoney(100, "EUR")
	for i := range 20 {
		if err := inv.Pay(one, fmt.Sprint("pay-", i), now); err != nil {
			b.Fatal(err)
		}
	}
	inv.PullEvents()
	return inv
}

// BenchmarkRenderInvoice500Lines renders and writes one invoice of 500 lines,
// as every change and GET does.
func BenchmarkRenderInvoice500Lines(b *testing.B) {
	inv := benchInvoice(b)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		resp, err := renderInvoice(inv, http.StatusOK, false)
		if err != nil {
			b.Fatal(err)
		}
		writeStored(w, resp)
	}
}
