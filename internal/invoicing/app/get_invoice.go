package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// GetInvoice reads one invoice.
type GetInvoice struct {
	Tenant    kernel.TenantID
	InvoiceID invoice.ID
}

// GetInvoiceHandler handles GetInvoice.
type GetInvoiceHandler struct {
	invoices InvoiceReader
}

// Handle returns the invoice, or invoice.ErrNotFound.
func (h GetInvoiceHandler) Handle(ctx context.Context, q GetInvoice) (*invoice.Invoice, error) {
	return h.invoices.Get(ctx, q.Tenant, q.InvoiceID)
}
