package invoicinghttp

import (
	"net/http"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Host is what the routes another context adds to /v1 (API.V1)
// share with this API, so that the whole API authenticates and answers
// alike: the API-key authentication, the reading of JSON bodies, and the
// JSON and problem+json answers.
type Host struct {
	s    *server
	auth func(next tenantHandler, query ...string) http.HandlerFunc
}

// Authenticated returns a handler that resolves the request's bearer API key
// to its tenant and calls next with the tenant's id, a parameter as for
// this API's own handlers. A missing or unknown key, or a query parameter
// not in query (or one of them twice), is answered with its problem before
// next runs.
func (h *Host) Authenticated(next func(w http.ResponseWriter, r *http.Request, tenant string), query ...string) http.HandlerFunc {
	return h.auth(func(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
		next(w, r, tenant.String())
	}, query...)
}

// Decode reads r's JSON body into dst, under the API's limits and strict
// reading. It returns an error WriteProblem answers as a 400, 413 or 415
// naming the fault.
func (h *Host) Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	_, err := h.s.decode(w, r, dst, false)
	return err
}

// WriteJSON answers v as JSON with status.
func (h *Host) WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	writeJSON(w, r, status, v)
}

// WriteProblem answers err as problem+json: a *failure.Error with its kind's
// status, anything else as a logged 500.
func (h *Host) WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, err)
}
