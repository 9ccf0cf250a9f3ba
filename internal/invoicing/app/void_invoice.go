package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// VoidInvoice cancels an open, unpaid invoice.
type VoidInvoice struct {
	Tenant      kernel.TenantID
	InvoiceID   invoice.ID
	Reason      string
	IfMatch     Condition          // the versions the change may apply to (If-Match)
	Idempotency *IdempotentRequest // nil: not idempotent; see IdempotentRequest
}

// VoidInvoiceHandler handles VoidInvoice.
type VoidInvoiceHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle voids the invoice and returns it as committed. It fails with
// ErrVersionMismatch if cmd.IfMatch does not allow the invoice's
// version, and otherwise with the errors of Invoices.Update and of the aggregate.
func (h VoidInvoiceHandler) Handle(ctx context.Context, cmd VoidInvoice) (Changed, error) {
	opts := ChangeOptions{Idempotency: cmd.Idempotency}
	return h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		if err := inv.Void(cmd.Reason, h.clock.Now()); err != nil {
			return Result{}, err
		}
		return invoiceResult(cmd.Idempotency, inv)
	})
}
