package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// ListEndpoints reads a page of a tenant's endpoints, newest first.
type ListEndpoints struct {
	Tenant string
	Page   webhook.Page
}

// ListEndpointsHandler handles ListEndpoints.
type ListEndpointsHandler struct {
	endpoints Endpoints
}

// Handle returns the page and whether more follow. It returns
// ErrInvalidLimit, ErrInvalidCursor if the page starts after an id that is
// none of the tenant's endpoints, or the store's error.
func (h ListEndpointsHandler) Handle(ctx context.Context, cmd ListEndpoints) ([]webhook.Endpoint, bool, error) {
	if err := checkPage(cmd.Page); err != nil {
		return nil, false, err
	}
	es, more, err := h.endpoints.List(ctx, cmd.Tenant, cmd.Page)
	if errors.Is(err, webhook.ErrNotFound) {
		return nil, false, ErrInvalidCursor
	}
	return es, more, err
}
