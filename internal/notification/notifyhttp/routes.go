package notifyhttp

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Routes adds every route of the webhook API to r, the API's /v1 router.
// Each handler takes the tenant its API key authenticated (Host.Authenticated),
// then the query parameters the route takes (no others).
func (h *Handler) Routes(r chi.Router) {
	auth := h.host.Authenticated
	r.Post("/webhook_endpoints", auth(h.createEndpoint))
	r.Get("/webhook_endpoints", auth(h.listEndpoints, "limit", "starting_after"))
	r.Get("/webhook_endpoints/{id}", auth(h.getEndpoint))
	r.Patch("/webhook_endpoints/{id}", auth(h.updateEndpoint))
	r.Delete("/webhook_endpoints/{id}", auth(h.deleteEndpoint))
	r.Post("/webhook_endpoints/{id}/rotate_secret", auth(h.rotateSecret))
	r.Get("/webhook_endpoints/{id}/deliveries", auth(h.listDeliveries, "status", "limit", "starting_after"))
	r.Post("/webhook_endpoints/{id}/deliveries/{delivery_id}/retry", auth(h.retryDelivery))
	r.Post("/webhook_endpoints/{id}/replay", auth(h.replay))
}

// Off answers every route of the webhook API on r with err, through host:
// on a server that does not serve the webhook API, a client learns why
// rather than "no such route".
func Off(r chi.Router, host Host, err error) {
	off := func(w http.ResponseWriter, req *http.Request) { host.WriteProblem(w, req, err) }
	r.HandleFunc("/webhook_endpoints", off)
	r.HandleFunc("/webhook_endpoints/*", off)
}
