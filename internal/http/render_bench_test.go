package http

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/invoicing-dev/invoicing/internal/app"
	"github.com/invoicing-dev/invoicing/internal/domain/invoice/invoicetest"
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
