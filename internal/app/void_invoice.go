package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// VoidInvoice cancels an open, unpaid invoice.
type VoidInvoice struct {
	Tenant    invoice.TenantID
	InvoiceID invoice.ID
	Reason    string
	IfMatch   Condition // the versions the change may apply to (If-Match)
}

// VoidInvoiceHandler handles VoidInvoice.
type VoidInvoiceHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle voids the invoice and returns it. It fails with
// invoice.ErrVersionMismatch if cmd.IfMatch does not allow the invoice's
// version, and otherwise with the errors of Invoices.Update and of the aggregate.
func (h VoidInvoiceHandler) Handle(ctx context.Context, cmd VoidInvoice) (*invoice.Invoice, error) {
	return h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, func(_ context.Context, inv *invoice.Invoice) error {
		if err := cmd.IfMatch.check(inv); err != nil {
			return err
		}
		return inv.Void(cmd.Reason, h.clock.Now())
	})
}
