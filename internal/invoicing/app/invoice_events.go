package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// InvoiceEvents reads a page of one invoice's history: its committed events.
type InvoiceEvents struct {
	Tenant    kernel.TenantID
	InvoiceID invoice.ID
	After     int64 // the Version of the last event of the previous page; 0 for the first
}

// InvoiceEventsHandler handles InvoiceEvents.
type InvoiceEventsHandler struct {
	events EventHistory
}

// Handle returns the invoice's events after version After, in version order
// (those the outbox still retains): up to MaxFeedLimit, fewer if their
// payloads would pass PageBytes. It fails with invoice.ErrNotFound, or with
// ErrInvalidCursor (field after) for a negative After.
func (h InvoiceEventsHandler) Handle(ctx context.Context, q InvoiceEvents) (HistoryPage, error) {
	if q.After < 0 {
		return HistoryPage{}, ErrInvalidCursor.At("after")
	}
	return h.events.History(ctx, q.Tenant, q.InvoiceID, HistoryFilter{After: q.After, MaxBytes: PageBytes})
}
