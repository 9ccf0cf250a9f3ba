package app

import (
	"context"
	"errors"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// UpdateInvoice edits an invoice's fields (PATCH): customer, due date and
// currency on a draft, metadata in any status. A nil field is left as is.
type UpdateInvoice struct {
	Tenant    kernel.TenantID
	InvoiceID invoice.ID
	Customer  *invoice.Customer
	DueDate   *string // YYYY-MM-DD
	// ClearDueDate removes the due date ("due_date": null); DueDate is then
	// left unread.
	ClearDueDate bool
	Currency     *string           // an ISO 4217 code
	Metadata     map[string]string // merged; a "" value removes its key
	// ClearMetadata removes every key before Metadata merges ("metadata": null).
	ClearMetadata bool
	IfMatch       Condition // the versions the change may apply to (If-Match)
	Idempotency   *IdempotentRequest
}

// UpdateInvoiceHandler handles UpdateInvoice.
type UpdateInvoiceHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle applies the edits and returns the invoice as committed (as it was,
// if nothing changed). It fails with invoice.ErrInvalidDueDate or
// kernel.ErrInvalidCurrency (joined) for values that cannot be parsed, with
// ErrVersionMismatch if cmd.IfMatch does not allow the invoice's version,
// and otherwise with the errors of Invoices.Update and of invoice.Edit.
func (h UpdateInvoiceHandler) Handle(ctx context.Context, cmd UpdateInvoice) (Changed, error) {
	changes := invoice.Changes{Customer: cmd.Customer, Metadata: cmd.Metadata, ClearMetadata: cmd.ClearMetadata}
	var errs []error
	switch {
	case cmd.ClearDueDate:
		changes.DueDate = &time.Time{} // the zero time: no due date
	case cmd.DueDate != nil:
		d, err := invoice.ParseDueDate(*cmd.DueDate)
		errs = append(errs, err)
		changes.DueDate = &d
	}
	if cmd.Currency != nil {
		c, err := kernel.ParseCurrency(*cmd.Currency)
		errs = append(errs, err)
		changes.Currency = &c
	}
	if err := errors.Join(errs...); err != nil {
		return Changed{}, err
	}
	opts := ChangeOptions{Idempotency: cmd.Idempotency}
	return h.invoices.Update(ctx, cmd.Tenant, cmd.InvoiceID, opts, func(_ context.Context, inv *invoice.Invoice, _ Tx) (Result, error) {
		if err := cmd.IfMatch.check(inv); err != nil {
			return Result{}, err
		}
		if err := inv.Edit(changes, h.clock.Now()); err != nil {
			return Result{}, err
		}
		return invoiceResult(cmd.Idempotency, inv)
	})
}
