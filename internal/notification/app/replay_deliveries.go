package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// ReplayDeliveries queues again the deliveries to an endpoint of a tenant
// of the events since Replay.Since (those pending are under way already),
// with their event ids, so receivers recognise the ones they had: at most
// webhook.MaxReplay of them, oldest first, after Replay.StartingAfter.
type ReplayDeliveries struct {
	Tenant     string
	EndpointID string
	Replay     webhook.Replay
}

// ReplayDeliveriesHandler handles ReplayDeliveries.
type ReplayDeliveriesHandler struct {
	endpoints  Endpoints
	deliveries Deliveries
}

// Handle returns how many deliveries it queued and where the next replay
// continues, if more remain. It returns webhook.ErrNotFound if the tenant
// has no such endpoint, ErrInvalidCursor if StartingAfter is none of its
// deliveries, an error wrapping webhook.ErrConflict if the endpoint is
// disabled, or the store's error.
func (h ReplayDeliveriesHandler) Handle(ctx context.Context, cmd ReplayDeliveries) (webhook.Replayed, error) {
	if _, err := h.endpoints.Get(ctx, cmd.Tenant, cmd.EndpointID); err != nil {
		return webhook.Replayed{}, err
	}
	r, err := h.deliveries.Replay(ctx, cmd.Tenant, cmd.EndpointID, cmd.Replay)
	if errors.Is(err, webhook.ErrNotFound) {
		return webhook.Replayed{}, ErrInvalidCursor // the endpoint exists: the cursor is at fault
	}
	return r, err
}
