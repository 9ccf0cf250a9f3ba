package notifyhttp

import (
	"net/http"
	"strconv"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

type createEndpointRequest struct {
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabled_events"`
	Description   string   `json:"description"`
}

type updateEndpointRequest struct {
	URL           *string   `json:"url"`
	EnabledEvents *[]string `json:"enabled_events"`
	Description   *string   `json:"description"`
	Status        *string   `json:"status"`
}

type endpointResponse struct {
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

// newEndpointResponse shows e; its secret only if withSecret.
func newEndpointResponse(e webhook.Endpoint, withSecret bool) endpointResponse {
	out := endpointResponse{
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

type endpointList struct {
	Data    []endpointResponse `json:"data"`
	HasMore bool               `json:"has_more"`
}

type attemptResponse struct {
	At         string  `json:"at"`
	StatusCode *int    `json:"status_code"`
	DurationMS int64   `json:"duration_ms"`
	Error      *string `json:"error"`
}

type deliveryResponse struct {
	ID            string            `json:"id"`
	EventID       string            `json:"event_id"`
	EventType     string            `json:"event_type"`
	EventTime     string            `json:"event_time"`
	Status        string            `json:"status"`
	Attempts      []attemptResponse `json:"attempts"`
	NextAttemptAt *string           `json:"next_attempt_at"`
	CreatedAt     string            `json:"created_at"`
}

// newDeliveryResponse shows d with its attempts.
func newDeliveryResponse(d webhook.Delivery) deliveryResponse {
	out := deliveryResponse{ID: d.ID, EventID: d.EventID, EventType: d.EventType, EventTime: timestamp(d.EventTime),
		Status: d.Status, Attempts: make([]attemptResponse, 0, len(d.Attempts)), NextAttemptAt: optionalTime(d.NextAttemptAt),
		CreatedAt: timestamp(d.CreatedAt)}
	for _, a := range d.Attempts {
		ar := attemptResponse{At: timestamp(a.At), DurationMS: a.Duration.Milliseconds(), Error: optional(a.Error)}
		if a.StatusCode != 0 {
			ar.StatusCode = &a.StatusCode
		}
		out.Attempts = append(out.Attempts, ar)
	}
	return out
}

type deliveryList struct {
	Data    []deliveryResponse `json:"data"`
	HasMore bool               `json:"has_more"`
}

type queuedResponse struct {
	Queued int `json:"queued"`
}

// replayRequest reads since as text, parsed by its handler: decoded into a
// time.Time, a string of another format would be reported as a value of
// the wrong JSON type.
type replayRequest struct {
	Since         *string `json:"since"`
	StartingAfter *string `json:"starting_after"`
}

// replayResponse is what one replay queued and, while more remain, the
// starting_after of the next.
type replayResponse struct {
	Queued            int     `json:"queued"`
	HasMore           bool    `json:"has_more"`
	NextStartingAfter *string `json:"next_starting_after,omitempty"`
}

// page reads limit and starting_after. It returns app.ErrInvalidLimit for a
// limit that is not an integer from 1 to app.MaxListLimit.
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

// timestamp formats t as RFC 3339 in UTC.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// optionalTime is timestamp, or nil for the zero time.
func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

// optional is s, or nil for "".
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
