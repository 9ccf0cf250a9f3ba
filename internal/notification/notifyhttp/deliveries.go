package notifyhttp

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// listDeliveries serves GET /v1/webhook_endpoints/{id}/deliveries?status=&limit=&starting_after=.
func (h *Handler) listDeliveries(w http.ResponseWriter, r *http.Request, tenant string) {
	p, err := page(r)
	if err != nil {
		h.host.WriteProblem(w, r, err)
		return
	}
	ds, more, err := h.app.ListDeliveries.Handle(r.Context(), app.ListDeliveries{Tenant: tenant, EndpointID: chi.URLParam(r, "id"),
		Filter: webhook.DeliveryFilter{Status: r.URL.Query().Get("status"), Page: p}})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	out := deliveryList{Data: make([]deliveryResponse, 0, len(ds)), HasMore: more}
	for _, d := range ds {
		out.Data = append(out.Data, newDeliveryResponse(d))
	}
	h.host.WriteJSON(w, r, http.StatusOK, out)
}

// retryDelivery serves POST /v1/webhook_endpoints/{id}/deliveries/{delivery_id}/retry.
func (h *Handler) retryDelivery(w http.ResponseWriter, r *http.Request, tenant string) {
	err := h.app.RetryDelivery.Handle(r.Context(), app.RetryDelivery{Tenant: tenant, EndpointID: chi.URLParam(r, "id"),
		DeliveryID: chi.URLParam(r, "delivery_id")})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	h.host.WriteJSON(w, r, http.StatusAccepted, queuedResponse{Queued: 1})
}

// replay serves POST /v1/webhook_endpoints/{id}/replay.
func (h *Handler) replay(w http.ResponseWriter, r *http.Request, tenant string) {
	var req replayRequest
	if err := h.host.Decode(w, r, &req); err != nil {
		h.host.WriteProblem(w, r, err)
		return
	}
	if req.Since == nil {
		h.host.WriteProblem(w, r, &failure.Error{Kind: failure.Invalid, Code: "invalid_replay", Field: "since", Message: "since is required: an RFC 3339 time"})
		return
	}
	since, err := time.Parse(time.RFC3339, *req.Since)
	if err != nil {
		h.host.WriteProblem(w, r, &failure.Error{Kind: failure.Invalid, Code: "invalid_replay", Field: "since",
			Message: "since must be an RFC 3339 time such as 2026-06-30T08:00:00Z"})
		return
	}
	rp := webhook.Replay{Since: since}
	if req.StartingAfter != nil {
		rp.StartingAfter = *req.StartingAfter
	}
	res, err := h.app.ReplayDeliveries.Handle(r.Context(), app.ReplayDeliveries{Tenant: tenant, EndpointID: chi.URLParam(r, "id"), Replay: rp})
	if err != nil {
		h.host.WriteProblem(w, r, apiError(err))
		return
	}
	out := replayResponse{Queued: res.Queued, HasMore: res.More}
	if res.More {
		out.NextStartingAfter = &res.Next
	}
	h.host.WriteJSON(w, r, http.StatusAccepted, out)
}
