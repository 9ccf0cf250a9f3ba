package app

import (
	"context"
	"errors"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// CreateEndpoint registers a webhook endpoint of a tenant.
type CreateEndpoint struct {
	Tenant        string
	URL           string
	EnabledEvents []string
	Description   string
}

// CreateEndpointHandler handles CreateEndpoint.
type CreateEndpointHandler struct {
	endpoints Endpoints
	urls      URLChecker
}

// Handle registers the endpoint and returns it with its secret. It returns
// the *webhook.InvalidError of every field at fault (joined), a
// *webhook.LimitError if the tenant may register no more, or the store's
// error.
func (h CreateEndpointHandler) Handle(ctx context.Context, cmd CreateEndpoint) (webhook.Endpoint, error) {
	if err := errors.Join(h.urls.CheckURL(ctx, cmd.URL), webhook.ValidateEvents(cmd.EnabledEvents),
		webhook.ValidateDescription(cmd.Description)); err != nil {
		return webhook.Endpoint{}, err
	}
	return h.endpoints.Create(ctx, cmd.Tenant, webhook.NewEndpoint{URL: cmd.URL, EnabledEvents: cmd.EnabledEvents, Description: cmd.Description})
}
