package invoicinghttp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// eventPage is the body of GET /v1/events.
type eventPage struct {
	Data      []json.RawMessage `json:"data"`
	NextAfter int64             `json:"next_after"`
}

// eventList is the body of GET /v1/invoices/{id}/events.
type eventList struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
}

// listEvents serves GET /v1/events?after=&limit=&type=, the tenant's event
// feed, as the CloudEvents the relay publishes: up to limit events, fewer if
// they would pass app.PageBytes (next_after then follows the last one).
func (s *server) listEvents(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	query := r.URL.Query()
	q := app.ListEvents{Tenant: tenant, Limit: app.DefaultFeedLimit}
	if v := query.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeProblem(w, r, app.ErrInvalidCursor.At("after"))
			return
		}
		q.After = n
	}
	if v := query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		// Checked here, not only by the use case, which reads 0 as the default.
		if err != nil || n < 1 || n > app.MaxFeedLimit {
			writeProblem(w, r, app.ErrInvalidFeedLimit)
			return
		}
		q.Limit = n
	}
	if v := query.Get("type"); v != "" {
		// The feed speaks CloudEvents types, "invoicing.invoice.paid"; the
		// outbox stores the domain's, "invoice.paid".
		t, ok := strings.CutPrefix(v, cloudevent.SubjectPrefix)
		if !ok {
			writeProblem(w, r, app.ErrInvalidEventType)
			return
		}
		q.Type = t
	}
	page, err := s.app.ListEvents.Handle(r.Context(), q)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	data, cut, err := fill(page.Events, cloudevent.Encode)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	if cut { // read on after the last event served
		page.NextAfter = page.Events[len(data)-1].Sequence
	}
	writeJSON(w, r, http.StatusOK, eventPage{Data: data, NextAfter: page.NextAfter})
}

// invoiceEvents serves GET /v1/invoices/{id}/events?after=, one invoice's
// history a page at a time.
func (s *server) invoiceEvents(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	q := app.InvoiceEvents{Tenant: tenant, InvoiceID: id}
	if v := r.URL.Query().Get("after"); v != "" {
		if q.After, err = strconv.ParseInt(v, 10, 64); err != nil {
			writeProblem(w, r, app.ErrInvalidCursor.At("after"))
			return
		}
	}
	page, err := s.app.InvoiceEvents.Handle(r.Context(), q)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	data, cut, err := fill(page.Events, cloudevent.Encode)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, eventList{Data: data, HasMore: page.HasMore || cut})
}
