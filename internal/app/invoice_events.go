package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/domain/invoice"
)

// InvoiceEvents reads one invoice's history: its committed events.
type InvoiceEvents struct {
	Tenant    invoice.TenantID
	InvoiceID invoice.ID
}

// InvoiceEventsHandler handles InvoiceEvents.
type InvoiceEventsHandler struct {
	events Events
}

// Handle returns the invoice's events in version order (those the outbox
// still retains), or invoice.ErrNotFound.
func (h InvoiceEventsHandler) Handle(ctx context.Context, q InvoiceEvents) ([]EventRecord, error) {
	return h.events.History(ctx, q.Tenant, q.InvoiceID)
}
