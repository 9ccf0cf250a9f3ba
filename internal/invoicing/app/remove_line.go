package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// RemoveLine removes a line from a draft invoice.
type RemoveLine struct {
	Tenant    kernel.TenantID
	InvoiceID invoice.ID
	LineID    invoice.LineID
	IfMatch   Condition // the versions the change may apply to (If-Match)
}

// RemoveLineHandler handles RemoveLine.
type RemoveLineHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle removes the line and returns the updated invoice. It fails with
// ErrVersionMismatch if cmd.IfMatch does not allow the invoice's
// version, and otherwise with the errors of Invoices.Update and of the aggregate.
func (h RemoveLineHandler) Handle(ctx context.Context, cmd RemoveLine) (*invoice.Invoice, error) {
	changed, err := h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, ChangeOptions{}, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		return Result{}, inv.RemoveLine(cmd.LineID, h.clock.Now())
	})
	return changed.Invoice, err
}
