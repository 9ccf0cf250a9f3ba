package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// RotateSecret gives an endpoint of a tenant a new signing secret.
type RotateSecret struct {
	Tenant string
	ID     string
}

// RotateSecretHandler handles RotateSecret.
type RotateSecretHandler struct {
	endpoints Endpoints
}

// Handle rotates the secret and returns the endpoint with both secrets. It
// returns webhook.ErrNotFound, an error wrapping webhook.ErrConflict (saying
// when rotating is possible again) while the secret before the last
// rotation still signs, or the store's error.
func (h RotateSecretHandler) Handle(ctx context.Context, cmd RotateSecret) (webhook.Endpoint, error) {
	return h.endpoints.RotateSecret(ctx, cmd.Tenant, cmd.ID)
}
