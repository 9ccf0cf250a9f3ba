package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// RetryDelivery queues one delivery to an endpoint of a tenant again, at
// once, with a fresh retry schedule.
type RetryDelivery struct {
	Tenant     string
	EndpointID string
	DeliveryID string
}

// RetryDeliveryHandler handles RetryDelivery.
type RetryDeliveryHandler struct {
	endpoints  Endpoints
	deliveries Deliveries
}

// Handle queues the delivery. It returns webhook.ErrNotFound if the tenant
// has no such endpoint, ErrDeliveryNotFound if the endpoint has no such
// delivery, an error wrapping webhook.ErrConflict if the delivery is
// pending or the endpoint disabled, or the store's error.
func (h RetryDeliveryHandler) Handle(ctx context.Context, cmd RetryDelivery) error {
	if _, err := h.endpoints.Get(ctx, cmd.Tenant, cmd.EndpointID); err != nil {
		return err
	}
	err := h.deliveries.Retry(ctx, cmd.Tenant, cmd.EndpointID, cmd.DeliveryID)
	if errors.Is(err, webhook.ErrNotFound) {
		return ErrDeliveryNotFound
	}
	return err
}
