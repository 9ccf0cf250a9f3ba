// Package notifyhttp is the notification context's JSON API over HTTP: the
// webhook endpoints a tenant registers and their deliveries
// (/v1/webhook_endpoints). Handlers only translate: decode, call the use
// case (package app), encode; the rules live in the use cases and the
// domain (package webhook).
//
// The routes are served within the service's one API (api/openapi.yaml):
// main adds them to the invoicing API's /v1 router, whose middleware,
// API-key authentication and problem+json answers they share through Host.
package notifyhttp

import (
	"net/http"

	"github.com/invoicing-dev/invoicing/internal/notification/app"
)

// Host is what the webhook routes need of the API that serves them.
type Host interface {
	// Authenticated returns a handler that resolves the request's API key
	// to its tenant and calls next with the tenant's id; a missing or
	// unknown key, or a query parameter not in query, is answered before
	// next runs.
	Authenticated(next func(w http.ResponseWriter, r *http.Request, tenant string), query ...string) http.HandlerFunc
	// Decode reads r's JSON body into dst. It returns an error that
	// WriteProblem answers.
	Decode(w http.ResponseWriter, r *http.Request, dst any) error
	// WriteJSON answers v as JSON with status.
	WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any)
	// WriteProblem answers err as problem+json: a *failure.Error by its
	// kind, anything else as a 500 that shows nothing of it.
	WriteProblem(w http.ResponseWriter, r *http.Request, err error)
}

// Handler serves the webhook API; its methods are the handlers.
type Handler struct {
	app  *app.App
	host Host
}

// New returns the webhook API on the use cases of a, answering through
// host. It never fails; errors surface per request as problem+json.
func New(a *app.App, host Host) *Handler {
	return &Handler{app: a, host: host}
}
