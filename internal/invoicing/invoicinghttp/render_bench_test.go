package invoicinghttp

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice/invoicetest"
)

// BenchmarkRenderInvoice500Lines renders and writes one invoice of 500 lines,
// as every change and GET does.
func BenchmarkRenderInvoice500Lines(b *testing.B) {
	inv := invoicetest.Full(b, 20)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		resp, err := renderInvoice(app.ViewOf(inv), http.StatusOK, false)
		if err != nil {
			b.Fatal(err)
		}
		writeResponse(w, resp)
	}
}

// BenchmarkResultOfInvoice500Lines encodes the result an idempotent change
// of an invoice of 500 lines stores, the part of its answer made inside the
// transaction, under the invoice's row lock.
func BenchmarkResultOfInvoice500Lines(b *testing.B) {
	inv := invoicetest.Full(b, 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := app.InvoiceResult(inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrameStoredInvoice500Lines frames and writes the stored result
// of an invoice of 500 lines, as the first answer to an idempotent change
// and every replay of it do, after the transaction.
func BenchmarkFrameStoredInvoice500Lines(b *testing.B) {
	res, err := app.InvoiceResult(invoicetest.Full(b, 20))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		resp, err := frameInvoice(res, http.StatusOK, false)
		if err != nil {
			b.Fatal(err)
		}
		writeResponse(w, resp)
	}
}
