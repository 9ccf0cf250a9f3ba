package invoicinghttp

import (
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// metadataInput is the metadata of a request: string values, or null, which
// like "" removes the key (JSON merge patch, RFC 7396, as Stripe reads "").
type metadataInput map[string]*string

// patch returns the metadata as the domain merges it: "" for a removal.
func (m metadataInput) patch() map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			out[k] = ""
		} else {
			out[k] = *v
		}
	}
	return out
}

// patchMember is a member of a JSON merge patch, which tells apart what a
// pointer cannot: absent (set false), null (set and null: remove) and a value.
type patchMember[T any] struct {
	set, null bool
	value     T
}

// UnmarshalJSONFrom reads null or a T; a T's errors name their place in the
// body as any other member's do.
func (m *patchMember[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m.set = true
	if dec.PeekKind() == 'n' {
		m.null = true
		_, err := dec.ReadToken()
		return err
	}
	return json.UnmarshalDecode(dec, &m.value)
}

// updateInvoiceRequest is the body of PATCH /v1/invoices/{id}, a JSON merge
// patch: an absent member changes nothing; due_date null removes the due
// date; metadata merges key by key, and metadata null removes every key;
// customer and currency cannot be removed.
type updateInvoiceRequest struct {
	Customer patchMember[customerJSON]  `json:"customer"`
	DueDate  patchMember[string]        `json:"due_date"`
	Currency patchMember[string]        `json:"currency"`
	Metadata patchMember[metadataInput] `json:"metadata"`
}

// command maps the body to UpdateInvoice. It fails with a 400 wrong_type
// if customer or currency is null (they cannot be removed); a member of
// another wrong type is refused as the body is decoded.
func (req updateInvoiceRequest) command(t kernel.TenantID, id invoice.ID) (app.UpdateInvoice, error) {
	cmd := app.UpdateInvoice{Tenant: t, InvoiceID: id, Metadata: req.Metadata.value.patch(), ClearMetadata: req.Metadata.null}
	switch {
	case req.Customer.null:
		return cmd, removedMember("customer", "object")
	case req.Currency.null:
		return cmd, removedMember("currency", "string")
	}
	if req.Customer.set {
		cmd.Customer = &invoice.Customer{Name: req.Customer.value.Name, Email: req.Customer.value.Email}
	}
	if req.Currency.set {
		cmd.Currency = &req.Currency.value
	}
	switch {
	case req.DueDate.null:
		cmd.ClearDueDate = true
	case req.DueDate.set:
		cmd.DueDate = &req.DueDate.value
	}
	return cmd, nil
}

// removedMember is the 400 wrong_type of a null for a member that cannot be
// removed, whose JSON type is kind.
func removedMember(field, kind string) error {
	return &requestError{status: http.StatusBadRequest, code: "wrong_type", field: field,
		message: field + " must be a JSON " + kind + ", not null: it cannot be removed"}
}

// updateInvoice serves PATCH /v1/invoices/{id}: customer, due date and
// currency of a draft, metadata of any invoice.
func (s *server) updateInvoice(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	cmd, body, ok := decodeInvoiceCommand[app.UpdateInvoice, updateInvoiceRequest](s, w, r, tenant)
	if !ok {
		return
	}
	cmd.IfMatch = ifMatch(r)
	s.change(w, r, body, http.StatusOK, false, func(key *app.IdempotentRequest) (app.Changed, error) {
		cmd.Idempotency = key
		return s.app.UpdateInvoice.Handle(r.Context(), cmd)
	})
}

// markUncollectible serves POST /v1/invoices/{id}/mark_uncollectible. The
// body is optional; if sent it must be an empty JSON object.
func (s *server) markUncollectible(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	s.transition(w, r, func(id invoice.ID, cond app.Condition, key *app.IdempotentRequest) (app.Changed, error) {
		return s.app.MarkUncollectible.Handle(r.Context(), app.MarkUncollectible{Tenant: tenant, InvoiceID: id, IfMatch: cond, Idempotency: key})
	})
}

// transition serves a change of the invoice {id} that takes no options
// (issue, mark_uncollectible): the body is optional and, if sent, an empty
// JSON object. do runs the use case with the id, the request's If-Match
// and Idempotency-Key.
func (s *server) transition(w http.ResponseWriter, r *http.Request, do func(invoice.ID, app.Condition, *app.IdempotentRequest) (app.Changed, error)) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	var req struct{}
	body, err := s.decode(w, r, &req, true)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	cond := ifMatch(r)
	s.change(w, r, body, http.StatusOK, false, func(key *app.IdempotentRequest) (app.Changed, error) {
		return do(id, cond, key)
	})
}
