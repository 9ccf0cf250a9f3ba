package app

import (
	"context"
	"time"
)

// ReplayDeliveries queues again every delivery to an endpoint of a tenant
// of the events since Since (those pending are under way already), with
// their event ids, so receivers recognise the ones they had.
type ReplayDeliveries struct {
	Tenant     string
	EndpointID string
	Since      time.Time
}

// ReplayDeliveriesHandler handles ReplayDeliveries.
type ReplayDeliveriesHandler struct {
	deliveries Deliveries
}

// Handle returns how many deliveries it queued. It returns
// webhook.ErrNotFound, an error wrapping webhook.ErrConflict if the
// endpoint is disabled, or the store's error.
func (h ReplayDeliveriesHandler) Handle(ctx context.Context, cmd ReplayDeliveries) (int, error) {
	return h.deliveries.Replay(ctx, cmd.Tenant, cmd.EndpointID, cmd.Since)
}
