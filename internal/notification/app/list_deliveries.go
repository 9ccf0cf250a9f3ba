package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// ListDeliveries reads a page of the deliveries to an endpoint of a
// tenant, newest first, with their attempts.
type ListDeliveries struct {
	Tenant     string
	EndpointID string
	Filter     webhook.DeliveryFilter
}

// ListDeliveriesHandler handles ListDeliveries.
type ListDeliveriesHandler struct {
	endpoints  Endpoints
	deliveries Deliveries
}

// Handle returns the page and whether more follow. It returns
// ErrInvalidLimit, a *webhook.InvalidError (field status) for an unknown
// status, webhook.ErrNotFound if the tenant has no such endpoint,
// ErrInvalidCursor if the page starts after an id that is none of its
// deliveries, or the store's error.
func (h ListDeliveriesHandler) Handle(ctx context.Context, cmd ListDeliveries) ([]webhook.Delivery, bool, error) {
	if err := checkPage(cmd.Filter.Page); err != nil {
		return nil, false, err
	}
	if err := webhook.ValidateDeliveryStatus(cmd.Filter.Status); err != nil {
		return nil, false, err
	}
	if _, err := h.endpoints.Get(ctx, cmd.Tenant, cmd.EndpointID); err != nil {
		return nil, false, err
	}
	ds, more, err := h.deliveries.Deliveries(ctx, cmd.Tenant, cmd.EndpointID, cmd.Filter)
	if errors.Is(err, webhook.ErrNotFound) {
		return nil, false, ErrInvalidCursor // the endpoint exists: the cursor is at fault
	}
	return ds, more, err
}
