package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// AddLine adds a line to a draft invoice.
type AddLine struct {
	Tenant      kernel.TenantID
	InvoiceID   invoice.ID
	Line        invoice.LineInput
	IfMatch     Condition          // the versions the change may apply to (If-Match)
	Idempotency *IdempotentRequest // nil: not idempotent; see IdempotentRequest
}

// AddLineHandler handles AddLine.
type AddLineHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle adds the line and returns the invoice as committed and the new line's id.
// It fails with ErrVersionMismatch if cmd.IfMatch does not allow the
// invoice's version, and otherwise with the errors of Invoices.Update and of
// the aggregate.
func (h AddLineHandler) Handle(ctx context.Context, cmd AddLine) (Changed, invoice.LineID, error) {
	var added invoice.LineID
	opts := ChangeOptions{Idempotency: cmd.Idempotency}
	changed, err := h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		id, err := inv.AddLine(cmd.Line, h.clock.Now())
		if err != nil {
			return Result{}, err
		}
		added = id
		return invoiceResult(cmd.Idempotency, inv)
	})
	return changed, added, err
}
