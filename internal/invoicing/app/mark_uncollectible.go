package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// MarkUncollectible writes off an open invoice.
type MarkUncollectible struct {
	Tenant      kernel.TenantID
	InvoiceID   invoice.ID
	IfMatch     Condition          // the versions the change may apply to (If-Match)
	Idempotency *IdempotentRequest // nil: not idempotent; see IdempotentRequest
}

// MarkUncollectibleHandler handles MarkUncollectible.
type MarkUncollectibleHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle marks the invoice uncollectible and returns it as committed. It
// fails with ErrVersionMismatch if cmd.IfMatch does not allow the invoice's
// version, and otherwise with the errors of Invoices.Update and of the
// aggregate (invoice.ErrInvalidTransition unless it is open).
func (h MarkUncollectibleHandler) Handle(ctx context.Context, cmd MarkUncollectible) (Changed, error) {
	opts := ChangeOptions{Idempotency: cmd.Idempotency}
	return h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		if err := inv.MarkUncollectible(h.clock.Now()); err != nil {
			return Result{}, err
		}
		return invoiceResult(cmd.Idempotency, inv)
	})
}
