package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// PayInvoice records a payment against an open invoice.
type PayInvoice struct {
	Tenant      kernel.TenantID
	InvoiceID   invoice.ID
	Amount      int64              // minor units of the invoice's currency
	Currency    *string            // optional; if given it must be the invoice's currency
	Reference   string             // the payment provider's transaction id
	IfMatch     Condition          // the versions the change may apply to (If-Match)
	Idempotency *IdempotentRequest // nil: not idempotent; see IdempotentRequest
}

// PayInvoiceHandler handles PayInvoice.
type PayInvoiceHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle records the payment and returns the invoice as committed. Repeating a
// payment (same reference and amount) changes nothing and returns the invoice.
// It fails with ErrVersionMismatch if cmd.IfMatch does not allow the
// invoice's version, and otherwise with the errors of Invoices.Update and of
// the aggregate.
func (h PayInvoiceHandler) Handle(ctx context.Context, cmd PayInvoice) (Changed, error) {
	opts := ChangeOptions{Idempotency: cmd.Idempotency}
	return h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		currency := inv.Currency()
		if cmd.Currency != nil {
			c, err := kernel.ParseCurrency(*cmd.Currency)
			if err != nil {
				return Result{}, err
			}
			currency = c
		}
		amount, err := kernel.NewMoney(cmd.Amount, currency)
		if err != nil {
			return Result{}, err
		}
		if err := inv.Pay(amount, cmd.Reference, h.clock.Now()); err != nil {
			return Result{}, err
		}
		return invoiceResult(cmd.Idempotency, inv)
	})
}
