package notifyhttp

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// createEndpoint serves POST /v1/webhook_endpoints.
func (h *Handler) createEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	var req createEndpointRequest
	if err := h.host.Decode(w, r, &req); err != nil {
		h.host.WriteProblem(w, r, err)
		return
	}
	e, err := h.app.CreateEndpoint.Handle(r.Context(), app.CreateEndpoint{Tenant: tenant, URL: req.URL,
		EnabledEvents: req.EnabledEvents, Description: req.Description})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	w.Header().Set("Location", "/v1/webhook_endpoints/"+e.ID)
	h.host.WriteJSON(w, r, http.StatusCreated, newEndpointResponse(e, true))
}

// listEndpoints serves GET /v1/webhook_endpoints?limit=&starting_after=.
func (h *Handler) listEndpoints(w http.ResponseWriter, r *http.Request, tenant string) {
	p, err := page(r)
	if err != nil {
		h.host.WriteProblem(w, r, err)
		return
	}
	es, more, err := h.app.ListEndpoints.Handle(r.Context(), app.ListEndpoints{Tenant: tenant, Page: p})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	out := endpointList{Data: make([]endpointResponse, 0, len(es)), HasMore: more}
	for _, e := range es {
		out.Data = append(out.Data, newEndpointResponse(e, false))
	}
	h.host.WriteJSON(w, r, http.StatusOK, out)
}

// getEndpoint serves GET /v1/webhook_endpoints/{id}.
func (h *Handler) getEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	e, err := h.app.GetEndpoint.Handle(r.Context(), app.GetEndpoint{Tenant: tenant, ID: chi.URLParam(r, "id")})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	h.host.WriteJSON(w, r, http.StatusOK, newEndpointResponse(e, false))
}

// updateEndpoint serves PATCH /v1/webhook_endpoints/{id}.
func (h *Handler) updateEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	var req updateEndpointRequest
	if err := h.host.Decode(w, r, &req); err != nil {
		h.host.WriteProblem(w, r, err)
		return
	}
	p := webhook.Patch{URL: req.URL, Description: req.Description, Status: req.Status}
	if req.EnabledEvents != nil {
		p.EnabledEvents = append([]string{}, *req.EnabledEvents...) // [] stays non-nil: invalid, not "unchanged"
	}
	e, err := h.app.UpdateEndpoint.Handle(r.Context(), app.UpdateEndpoint{Tenant: tenant, ID: chi.URLParam(r, "id"), Patch: p})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	h.host.WriteJSON(w, r, http.StatusOK, newEndpointResponse(e, false))
}

// deleteEndpoint serves DELETE /v1/webhook_endpoints/{id}.
func (h *Handler) deleteEndpoint(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := h.app.DeleteEndpoint.Handle(r.Context(), app.DeleteEndpoint{Tenant: tenant, ID: chi.URLParam(r, "id")}); err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateSecret serves POST /v1/webhook_endpoints/{id}/rotate_secret.
func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request, tenant string) {
	e, err := h.app.RotateSecret.Handle(r.Context(), app.RotateSecret{Tenant: tenant, ID: chi.URLParam(r, "id")})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	h.host.WriteJSON(w, r, http.StatusOK, newEndpointResponse(e, true))
}
