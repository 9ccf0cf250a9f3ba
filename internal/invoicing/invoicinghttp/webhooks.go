package invoicinghttp

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// Webhooks is the notification context's store of webhook endpoints, as the
// /v1/webhook_endpoints routes need it (notifypg.Webhooks
// implements it). Tenants are passed as their id's text. Methods return
// webhook.ErrNotFound for another tenant's endpoint, a (joined)
// *webhook.InvalidError for bad input, webhook.ErrConflict for a change the
// state forbids.
type Webhooks interface {
	Create(ctx context.Context, tenant string, ne webhook.NewEndpoint) (webhook.Endpoint, error)
	Get(ctx context.Context, tenant, id string) (webhook.Endpoint, error)
	List(ctx context.Context, tenant string, p webhook.Page) ([]webhook.Endpoint, bool, error)
	Update(ctx context.Context, tenant, id string, p webhook.Patch) (webhook.Endpoint, error)
	Delete(ctx context.Context, tenant, id string) error
	RotateSecret(ctx context.Context, tenant, id string) (webhook.Endpoint, error)
	Deliveries(ctx context.Context, tenant, endpointID string, f webhook.DeliveryFilter) ([]webhook.Delivery, bool, error)
	Retry(ctx context.Context, tenant, endpointID, deliveryID string) error
	Replay(ctx context.Context, tenant, endpointID string, since time.Time) (int, error)
}

// Errors of the webhook routes, in the API's error kinds.
var (
	errWebhookEndpointNotFound = &failure.Error{Kind: failure.NotFound, Code: "webhook_endpoint_not_found", Message: "no webhook endpoint with this id"}
	errWebhookDeliveryNotFound = &failure.Error{Kind: failure.NotFound, Code: "webhook_delivery_not_found", Message: "no delivery with this id at this endpoint"}
	errWebhookEndpointLimit    = &failure.Error{Kind: failure.Conflict, Code: "webhook_endpoint_limit", Message: "the tenant has as many webhook endpoints as it may register"}
)

// webhookError maps the store's errors to the API's: each invalid field
// becomes a field error, the endpoint limit, not found and conflict their
// kinds; anything else is returned as is (internal).
func webhookError(err error, notFound *failure.Error) error {
	var invalid []error
	var walk func(error)
	walk = func(err error) {
		var ie *webhook.InvalidError
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		} else if errors.As(err, &ie) {
			invalid = append(invalid, &failure.Error{Kind: failure.Invalid, Code: "invalid_webhook_endpoint", Field: ie.Field, Message: ie.Message})
		}
	}
	walk(err)
	var limit *webhook.LimitError
	switch {
	case len(invalid) > 0:
		return errors.Join(invalid...)
	case errors.As(err, &limit):
		return errWebhookEndpointLimit.With("", "the tenant has %d webhook endpoints, the most it may register; delete one to register another", limit.Max)
	case errors.Is(err, webhook.ErrNotFound):
		return notFound
	case errors.Is(err, webhook.ErrConflict):
		return &failure.Error{Kind: failure.Conflict, Code: "webhook_conflict", Message: err.Error()}
	}
	return err
}

type createWebhookEndpointRequest struct {
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabled_events"`
	Description   string   `json:"description"`
}

type updateWebhookEndpointRequest struct {
	URL           *string   `json:"url"`
	EnabledEvents *[]string `json:"enabled_events"`
	Description   *string   `json:"description"`
	Status        *string   `json:"status"`
}

type webhookEndpointResponse struct {
	ID                      string   `json:"id"`
	URL                     string   `json:"url"`
	Description             string   `json:"description"`
	EnabledEvents           []string `json:"enabled_events"`
	Status                  string   `json:"status"`
	DisabledReason          *string  `json:"disabled_reason"`
	Secret                  string   `json:"secret,omitempty"`
	PreviousSecretExpiresAt *string  `json:"previous_secret_expires_at"`
	CreatedAt               string   `json:"created_at"`
	UpdatedAt               string   `json:"updated_at"`
}

// newWebhookEndpointResponse shows e; its secret only if withSecret.
func newWebhookEndpointResponse(e webhook.Endpoint, withSecret bool) webhookEndpointResponse {
	out := webhookEndpointResponse{
		ID: e.ID, URL: e.URL, Description: e.Description, EnabledEvents: e.EnabledEvents, Status: e.Status,
		DisabledReason: optional(e.DisabledReason), CreatedAt: timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt),
	}
	if withSecret {
		out.Secret = e.Secret
	}
	if e.PreviousSecret != "" && time.Now().Before(e.PreviousUntil) {
		out.PreviousSecretExpiresAt = optionalTime(e.PreviousUntil)
	}
	return out
}

type webhookEndpointList struct {
	Data    []webhookEndpointResponse `json:"data"`
	HasMore bool                      `json:"has_more"`
}

type webhookAttemptResponse struct {
	At         string  `json:"at"`
	StatusCode *int    `json:"status_code"`
	DurationMS int64   `json:"duration_ms"`
	Error      *string `json:"error"`
}

type webhookDeliveryResponse struct {
	ID            string                   `json:"id"`
	EventID       string                   `json:"event_id"`
	EventType     string                   `json:"event_type"`
	EventTime     string                   `json:"event_time"`
	Status        string                   `json:"status"`
	Attempts      []webhookAttemptResponse `json:"attempts"`
	NextAttemptAt *string                  `json:"next_attempt_at"`
	CreatedAt     string                   `json:"created_at"`
}

type webhookDeliveryList struct {
	Data    []webhookDeliveryResponse `json:"data"`
	HasMore bool                      `json:"has_more"`
}

type webhookQueuedResponse struct {
	Queued int `json:"queued"`
}

// replayWebhookRequest reads since as text, parsed by its handler: decoded
// into a time.Time, a string of another format would be reported as a
// value of the wrong JSON type.
type replayWebhookRequest struct {
	Since *string `json:"since"`
}

// page reads limit and starting_after.
func page(r *http.Request) (webhook.Page, error) {
	p := webhook.Page{Limit: app.DefaultListLimit, StartingAfter: r.URL.Query().Get("starting_after")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > app.MaxListLimit {
			return p, app.ErrInvalidLimit
		}
		p.Limit = n
	}
	return p, nil
}

// createWebhookEndpoint serves POST /v1/webhook_endpoints.
func (s *server) createWebhookEndpoint(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	var req createWebhookEndpointRequest
	if _, err := s.decode(w, r, &req, false); err != nil {
		writeProblem(w, r, err)
		return
	}
	e, err := s.webhooks.Create(r.Context(), tenant.String(), webhook.NewEndpoint{URL: req.URL, EnabledEvents: req.EnabledEvents, Description: req.Description})
	if err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	w.Header().Set("Location", "/v1/webhook_endpoints/"+e.ID)
	writeJSON(w, r, http.StatusCreated, newWebhookEndpointResponse(e, true))
}

// listWebhookEndpoints serves GET /v1/webhook_endpoints?limit=&starting_after=.
func (s *server) listWebhookEndpoints(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	p, err := page(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	es, more, err := s.webhooks.List(r.Context(), tenant.String(), p)
	if errors.Is(err, webhook.ErrNotFound) {
		err = app.ErrInvalidCursor.At("starting_after")
	}
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	out := webhookEndpointList{Data: make([]webhookEndpointResponse, 0, len(es)), HasMore: more}
	for _, e := range es {
		out.Data = append(out.Data, newWebhookEndpointResponse(e, false))
	}
	writeJSON(w, r, http.StatusOK, out)
}

// getWebhookEndpoint serves GET /v1/webhook_endpoints/{id}.
func (s *server) getWebhookEndpoint(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	e, err := s.webhooks.Get(r.Context(), tenant.String(), chi.URLParam(r, "id"))
	if err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	writeJSON(w, r, http.StatusOK, newWebhookEndpointResponse(e, false))
}

// updateWebhookEndpoint serves PATCH /v1/webhook_endpoints/{id}.
func (s *server) updateWebhookEndpoint(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	var req updateWebhookEndpointRequest
	if _, err := s.decode(w, r, &req, false); err != nil {
		writeProblem(w, r, err)
		return
	}
	p := webhook.Patch{URL: req.URL, Description: req.Description, Status: req.Status}
	if req.EnabledEvents != nil {
		p.EnabledEvents = append([]string{}, *req.EnabledEvents...) // [] stays non-nil: invalid, not "unchanged"
	}
	e, err := s.webhooks.Update(r.Context(), tenant.String(), chi.URLParam(r, "id"), p)
	if err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	writeJSON(w, r, http.StatusOK, newWebhookEndpointResponse(e, false))
}

// deleteWebhookEndpoint serves DELETE /v1/webhook_endpoints/{id}.
func (s *server) deleteWebhookEndpoint(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	if err := s.webhooks.Delete(r.Context(), tenant.String(), chi.URLParam(r, "id")); err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateWebhookSecret serves POST /v1/webhook_endpoints/{id}/rotate_secret.
func (s *server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	e, err := s.webhooks.RotateSecret(r.Context(), tenant.String(), chi.URLParam(r, "id"))
	if err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	writeJSON(w, r, http.StatusOK, newWebhookEndpointResponse(e, true))
}

// listWebhookDeliveries serves GET /v1/webhook_endpoints/{id}/deliveries?status=&limit=&starting_after=.
func (s *server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	p, err := page(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	f := webhook.DeliveryFilter{Status: r.URL.Query().Get("status"), Page: p}
	if err := webhook.ValidateDeliveryStatus(f.Status); err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	id := chi.URLParam(r, "id")
	if _, err := s.webhooks.Get(r.Context(), tenant.String(), id); err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	ds, more, err := s.webhooks.Deliveries(r.Context(), tenant.String(), id, f)
	if errors.Is(err, webhook.ErrNotFound) {
		err = app.ErrInvalidCursor.At("starting_after") // the endpoint exists: the cursor is at fault
	}
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	out := webhookDeliveryList{Data: make([]webhookDeliveryResponse, 0, len(ds)), HasMore: more}
	for _, d := range ds {
		dr := webhookDeliveryResponse{ID: d.ID, EventID: d.EventID, EventType: d.EventType, EventTime: timestamp(d.EventTime),
			Status: d.Status, Attempts: make([]webhookAttemptResponse, 0, len(d.Attempts)), NextAttemptAt: optionalTime(d.NextAttemptAt),
			CreatedAt: timestamp(d.CreatedAt)}
		for _, a := range d.Attempts {
			ar := webhookAttemptResponse{At: timestamp(a.At), DurationMS: a.Duration.Milliseconds(), Error: optional(a.Error)}
			if a.StatusCode != 0 {
				ar.StatusCode = &a.StatusCode
			}
			dr.Attempts = append(dr.Attempts, ar)
		}
		out.Data = append(out.Data, dr)
	}
	writeJSON(w, r, http.StatusOK, out)
}

// retryWebhookDelivery serves POST /v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry.
func (s *server) retryWebhookDelivery(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	id, deliveryID := chi.URLParam(r, "id"), chi.URLParam(r, "delivery_id")
	if _, err := s.webhooks.Get(r.Context(), tenant.String(), id); err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	if err := s.webhooks.Retry(r.Context(), tenant.String(), id, deliveryID); err != nil {
		writeProblem(w, r, webhookError(err, errWebhookDeliveryNotFound))
		return
	}
	writeJSON(w, r, http.StatusAccepted, webhookQueuedResponse{Queued: 1})
}

// replayWebhookEndpoint serves POST /v1/webhook_endpoints/{id}/replay.
func (s *server) replayWebhookEndpoint(w http.ResponseWriter, r *http.Request, tenant invoice.TenantID) {
	var req replayWebhookRequest
	if _, err := s.decode(w, r, &req, false); err != nil {
		writeProblem(w, r, err)
		return
	}
	if req.Since == nil {
		writeProblem(w, r, &failure.Error{Kind: failure.Invalid, Code: "invalid_replay", Field: "since", Message: "since is required: an RFC 3339 time"})
		return
	}
	since, err := time.Parse(time.RFC3339, *req.Since)
	if err != nil {
		writeProblem(w, r, &failure.Error{Kind: failure.Invalid, Code: "invalid_replay", Field: "since",
			Message: "since must be an RFC 3339 time such as 2026-06-30T08:00:00Z"})
		return
	}
	n, err := s.webhooks.Replay(r.Context(), tenant.String(), chi.URLParam(r, "id"), since)
	if err != nil {
		writeProblem(w, r, webhookError(err, errWebhookEndpointNotFound))
		return
	}
	writeJSON(w, r, http.StatusAccepted, webhookQueuedResponse{Queued: n})
}
