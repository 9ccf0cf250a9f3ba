package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// UpdateEndpoint changes an endpoint of a tenant: the patch's nil fields
// stay as they are.
type UpdateEndpoint struct {
	Tenant string
	ID     string
	Patch  webhook.Patch
}

// UpdateEndpointHandler handles UpdateEndpoint.
type UpdateEndpointHandler struct {
	endpoints Endpoints
	urls      URLChecker
}

// Handle applies the patch and returns the endpoint. It returns the
// *webhook.InvalidError of every field at fault (joined),
// webhook.ErrNotFound, or the store's error.
func (h UpdateEndpointHandler) Handle(ctx context.Context, cmd UpdateEndpoint) (webhook.Endpoint, error) {
	p := cmd.Patch
	var errs []error
	if p.URL != nil {
		errs = append(errs, h.urls.CheckURL(ctx, *p.URL))
	}
	if p.EnabledEvents != nil {
		errs = append(errs, webhook.ValidateEvents(p.EnabledEvents))
	}
	if p.Description != nil {
		errs = append(errs, webhook.ValidateDescription(*p.Description))
	}
	if p.Status != nil {
		errs = append(errs, webhook.ValidateStatus(*p.Status))
	}
	if err := errors.Join(errs...); err != nil {
		return webhook.Endpoint{}, err
	}
	return h.endpoints.Update(ctx, cmd.Tenant, cmd.ID, p)
}
