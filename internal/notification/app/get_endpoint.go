package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// GetEndpoint reads one endpoint of a tenant.
type GetEndpoint struct {
	Tenant string
	ID     string
}

// GetEndpointHandler handles GetEndpoint.
type GetEndpointHandler struct {
	endpoints Endpoints
}

// Handle returns the endpoint, webhook.ErrNotFound, or the store's error.
func (h GetEndpointHandler) Handle(ctx context.Context, cmd GetEndpoint) (webhook.Endpoint, error) {
	return h.endpoints.Get(ctx, cmd.Tenant, cmd.ID)
}
