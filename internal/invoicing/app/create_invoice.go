package app

import (
	"context"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// CreateInvoice creates a draft invoice.
type CreateInvoice struct {
	Tenant   kernel.TenantID
	Customer invoice.Customer
	Currency string
	DueDate  time.Time // zero: none
	Lines    []invoice.LineInput
	Metadata map[string]string // "" values are left out

	Idempotency *IdempotentRequest // nil: not idempotent; see IdempotentRequest
}

// CreateInvoiceHandler handles CreateInvoice.
type CreateInvoiceHandler struct {
	invoices Invoices
	clock    Clock
}

// Handle creates and stores the draft, and returns it as committed. It returns the domain's validation
// errors (joined, one per field) for bad input and storage errors as is.
func (h CreateInvoiceHandler) Handle(ctx context.Context, cmd CreateInvoice) (Changed, error) {
	currency, err := kernel.ParseCurrency(cmd.Currency)
	if err != nil {
		return Changed{}, err
	}
	inv, err := invoice.New(invoice.NewID(), cmd.Tenant, currency, cmd.Customer, cmd.DueDate, cmd.Lines, h.clock.Now(),
		invoice.WithMetadata(cmd.Metadata))
	if err != nil {
		return Changed{}, err
	}
	// Encoded before the invoice is handed to the repository, which stores
	// it under the key with the invoice.
	result, err := invoiceResult(cmd.Idempotency, inv)
	if err != nil {
		return Changed{}, err
	}
	return h.invoices.Add(ctx, inv, ChangeOptions{Idempotency: cmd.Idempotency}, result)
}
