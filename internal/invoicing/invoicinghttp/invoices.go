package invoicinghttp

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// invoicePath returns the URL path of an invoice, for Location headers.
func invoicePath(id invoice.ID) string { return "/v1/invoices/" + id.String() }

// invoiceID parses the {id} URL parameter. A malformed id names no
// invoice: it fails with invoice.ErrNotFound, as for an id of no invoice.
func invoiceID(r *http.Request) (invoice.ID, error) {
	id, err := invoice.ParseID(chi.URLParam(r, "id"))
	if err != nil {
		return invoice.ID{}, invoice.ErrNotFound
	}
	return id, nil
}

// createInvoice serves POST /v1/invoices.
func (s *server) createInvoice(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	var req createInvoiceRequest
	body, err := s.decode(w, r, &req, false)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	cmd, err := req.command(tenant)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	s.change(w, r, body, http.StatusCreated, true, func(key *app.IdempotentRequest) (app.Changed, error) {
		cmd.Idempotency = key
		return s.app.CreateInvoice.Handle(r.Context(), cmd)
	})
}

// getInvoice serves GET /v1/invoices/{id}: the invoice with its ETag, or a
// 304 without body if If-None-Match names that ETag.
func (s *server) getInvoice(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	inv, err := s.app.GetInvoice.Handle(r.Context(), app.GetInvoice{Tenant: tenant, InvoiceID: id})
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	if tag := etag(inv.Version()); notModified(r, tag) {
		w.Header().Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeInvoice(w, r, inv, http.StatusOK, false)
}

// listInvoices serves GET /v1/invoices?limit=&starting_after=&status=&customer_email=.
func (s *server) listInvoices(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	query := r.URL.Query()
	q := app.ListInvoices{Tenant: tenant, CustomerEmail: query.Get("customer_email")}
	var err error
	if v := query.Get("status"); v != "" {
		st, ok := invoice.ParseStatus(v)
		if !ok {
			writeProblem(w, r, errInvalidStatus)
			return
		}
		q.Status = st
	}
	if q.Limit, q.StartingAfter, err = pageParams(query, invoice.ParseID); err != nil {
		writeProblem(w, r, err)
		return
	}
	page, err := s.app.ListInvoices.Handle(r.Context(), q)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeList(w, r, page.Invoices, page.HasMore, func(v app.InvoiceView) ([]byte, error) {
		return encodeJSON(newInvoiceResponse(v))
	})
}

// pageParams reads the limit and starting_after parameters of a list,
// parsing the cursor with parse. It fails with app.ErrInvalidLimit unless
// limit is absent (the default) or 1..app.MaxListLimit, and with
// app.ErrInvalidCursor (field starting_after) if parse fails.
func pageParams[T any](query url.Values, parse func(string) (T, error)) (limit int, after *T, err error) {
	if v := query.Get("limit"); v != "" {
		// Checked here, not only by the use case, which reads 0 as the default.
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > app.MaxListLimit {
			return 0, nil, app.ErrInvalidLimit
		}
	}
	if v := query.Get("starting_after"); v != "" {
		cursor, err := parse(v)
		if err != nil {
			return 0, nil, app.ErrInvalidCursor.At("starting_after")
		}
		after = &cursor
	}
	return limit, after, nil
}

// listLines serves GET /v1/invoices/{id}/lines?limit=&starting_after=, the
// invoice's lines a page at a time.
func (s *server) listLines(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	q := app.ListLines{Tenant: tenant, InvoiceID: id}
	if q.Limit, q.StartingAfter, err = pageParams(r.URL.Query(), invoice.ParseLineID); err != nil {
		writeProblem(w, r, err)
		return
	}
	page, err := s.app.ListLines.Handle(r.Context(), q)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeList(w, r, page.Lines, page.HasMore, func(l invoice.Line) ([]byte, error) {
		return encodeJSON(newLineResponse(l))
	})
}

// writeList writes a page of items, {data, has_more}: those that fit
// app.PageBytes (see fill), has_more if that left some out. It writes the
// problem instead if an item cannot be encoded.
func writeList[T any](w http.ResponseWriter, r *http.Request, items []T, hasMore bool, encode func(T) ([]byte, error)) {
	data, cut, err := fill(items, encode)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, listResponse{Data: data, HasMore: hasMore || cut})
}

// addLine serves POST /v1/invoices/{id}/lines.
func (s *server) addLine(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	var req lineRequest
	body, err := s.decode(w, r, &req, false)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	in, err := req.input("")
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	cmd := app.AddLine{Tenant: tenant, InvoiceID: id, Line: in, IfMatch: ifMatch(r)}
	s.change(w, r, body, http.StatusCreated, true, func(key *app.IdempotentRequest) (app.Changed, error) {
		cmd.Idempotency = key
		changed, _, err := s.app.AddLine.Handle(r.Context(), cmd)
		return changed, err
	})
}

// removeLine serves DELETE /v1/invoices/{id}/lines/{line_id}. A DELETE is
// idempotent by nature (a second one is a 404), so it takes no Idempotency-Key.
func (s *server) removeLine(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	line, err := invoice.ParseLineID(chi.URLParam(r, "line_id"))
	if err != nil { // a malformed id names no line
		writeProblem(w, r, invoice.ErrLineNotFound)
		return
	}
	cmd := app.RemoveLine{Tenant: tenant, InvoiceID: id, LineID: line, IfMatch: ifMatch(r)}
	inv, err := s.app.RemoveLine.Handle(r.Context(), cmd)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeInvoice(w, r, inv, http.StatusOK, false)
}
