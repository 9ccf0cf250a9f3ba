package invoicinghttp

import (
	"net/http"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// issueInvoice serves POST /v1/invoices/{id}/issue. The body is optional; if
// sent it must be an empty JSON object.
func (s *server) issueInvoice(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	s.transition(w, r, func(id invoice.ID, cond app.Condition, key *app.IdempotentRequest) (app.Changed, error) {
		return s.app.IssueInvoice.Handle(r.Context(), app.IssueInvoice{Tenant: tenant, InvoiceID: id, IfMatch: cond, Idempotency: key})
	})
}

// payInvoice serves POST /v1/invoices/{id}/payments. A repeated payment (same
// reference and amount) is answered like the first, with the invoice as is.
func (s *server) payInvoice(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	cmd, body, ok := decodeInvoiceCommand[app.PayInvoice, payRequest](s, w, r, tenant)
	if !ok {
		return
	}
	cmd.IfMatch = ifMatch(r)
	s.change(w, r, body, http.StatusOK, false, func(key *app.IdempotentRequest) (app.Changed, error) {
		cmd.Idempotency = key
		return s.app.PayInvoice.Handle(r.Context(), cmd)
	})
}

// voidInvoice serves POST /v1/invoices/{id}/void.
func (s *server) voidInvoice(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	var req voidRequest
	body, err := s.decode(w, r, &req, false)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	if req.Reason == nil {
		writeProblem(w, r, missing("reason"))
		return
	}
	cmd := app.VoidInvoice{Tenant: tenant, InvoiceID: id, Reason: *req.Reason, IfMatch: ifMatch(r)}
	s.change(w, r, body, http.StatusOK, false, func(key *app.IdempotentRequest) (app.Changed, error) {
		cmd.Idempotency = key
		return s.app.VoidInvoice.Handle(r.Context(), cmd)
	})
}
