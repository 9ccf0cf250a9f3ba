package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// Endpoints is the store of tenants' webhook endpoints. Tenants are their
// ids' text, as the published events carry them. Every method answers
// webhook.ErrNotFound for an endpoint of another tenant, as for none.
type Endpoints interface {
	// Create registers a valid endpoint of tenant with a fresh secret. It
	// returns a *webhook.LimitError (see webhook.Admit) if the tenant has
	// as many endpoints as it may register, counted and inserted in one
	// transaction.
	Create(ctx context.Context, tenant string, ne webhook.NewEndpoint) (webhook.Endpoint, error)
	// Get returns the endpoint id of tenant, or webhook.ErrNotFound.
	Get(ctx context.Context, tenant, id string) (webhook.Endpoint, error)
	// List returns a page of tenant's endpoints, newest first, and whether
	// more follow; webhook.ErrNotFound if p.StartingAfter is none of them.
	List(ctx context.Context, tenant string, p webhook.Page) ([]webhook.Endpoint, bool, error)
	// Update applies a valid patch and returns the endpoint, or
	// webhook.ErrNotFound.
	Update(ctx context.Context, tenant, id string, p webhook.Patch) (webhook.Endpoint, error)
	// Delete removes the endpoint with its deliveries, or returns
	// webhook.ErrNotFound.
	Delete(ctx context.Context, tenant, id string) error
	// RotateSecret gives the endpoint a new secret, the current one signing
	// on for the configured overlap. It returns webhook.ErrNotFound, or
	// webhook.ErrConflict while the overlap of the last rotation lasts
	// (checked atomically with the change).
	RotateSecret(ctx context.Context, tenant, id string) (webhook.Endpoint, error)
}

// Deliveries is the store of the deliveries of events to endpoints.
type Deliveries interface {
	// Deliveries returns a page of the endpoint's deliveries with their
	// attempts, newest first, and whether more follow. It returns
	// webhook.ErrNotFound if tenant has no such endpoint or the cursor is
	// not one of its deliveries.
	Deliveries(ctx context.Context, tenant, endpointID string, f webhook.DeliveryFilter) ([]webhook.Delivery, bool, error)
	// Retry queues the delivery again at once. It returns
	// webhook.ErrNotFound if the endpoint has no such delivery, an error
	// wrapping webhook.ErrConflict if it is pending or the endpoint is
	// disabled (see webhook.Endpoint.Redeliverable).
	Retry(ctx context.Context, tenant, endpointID, deliveryID string) error
	// Replay queues again a page of the endpoint's deliveries that r
	// selects and returns how many, and where the next page starts. It
	// returns webhook.ErrNotFound if there is no such endpoint or
	// r.StartingAfter is none of its deliveries, or an error wrapping
	// webhook.ErrConflict if the endpoint is disabled.
	Replay(ctx context.Context, tenant, endpointID string, r webhook.Replay) (webhook.Replayed, error)
}

// URLChecker decides whether webhooks may go to an address
// (webhook.Policy implements it).
type URLChecker interface {
	// CheckURL returns a *webhook.InvalidError (field url) unless raw is
	// an address deliveries may be sent to.
	CheckURL(ctx context.Context, raw string) error
}

// Reminders is the store of payment reminder processes.
type Reminders interface {
	// Reminders returns up to limit processes, the active ones first, then
	// the most recently changed; only invoiceID's if it is not empty. It
	// returns an error if the store cannot be read.
	Reminders(ctx context.Context, invoiceID string, limit int) ([]ReminderView, error)
}
