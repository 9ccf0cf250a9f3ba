package app

import "context"

// DeleteEndpoint removes an endpoint of a tenant with its deliveries.
type DeleteEndpoint struct {
	Tenant string
	ID     string
}

// DeleteEndpointHandler handles DeleteEndpoint.
type DeleteEndpointHandler struct {
	endpoints Endpoints
}

// Handle deletes the endpoint. It returns webhook.ErrNotFound or the
// store's error.
func (h DeleteEndpointHandler) Handle(ctx context.Context, cmd DeleteEndpoint) error {
	return h.endpoints.Delete(ctx, cmd.Tenant, cmd.ID)
}
