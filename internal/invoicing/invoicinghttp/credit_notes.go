package invoicinghttp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

type creditNoteRequest struct {
	Lines  []creditLineRequest `json:"lines"`
	Amount *int64              `json:"amount"`
	Reason *string             `json:"reason"`
	Memo   *string             `json:"memo"`
}

type creditLineRequest struct {
	Description *string `json:"description"`
	Amount      *int64  `json:"amount"`
}

type creditNoteResponse struct {
	ID                creditnote.ID        `json:"id"`
	Number            string               `json:"number"`
	InvoiceID         invoice.ID           `json:"invoice_id"`
	InvoiceNumber     string               `json:"invoice_number"`
	Currency          kernel.Currency      `json:"currency"`
	Lines             []creditLineResponse `json:"lines"`
	Amount            int64                `json:"amount"`
	PrePaymentAmount  int64                `json:"pre_payment_amount"`
	PostPaymentAmount int64                `json:"post_payment_amount"`
	Reason            creditnote.Reason    `json:"reason"`
	Memo              *string              `json:"memo"`
	IssuedAt          string               `json:"issued_at"`
}

type creditLineResponse struct {
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
}

// creditNotePath returns the URL path of a credit note, for Location headers.
func creditNotePath(id creditnote.ID) string { return "/v1/credit_notes/" + id.String() }

// command maps the body to IssueCreditNote, failing with the missing fields.
func (req creditNoteRequest) command(t kernel.TenantID, id invoice.ID) (app.IssueCreditNote, error) {
	var errs []error
	cmd := app.IssueCreditNote{Tenant: t, InvoiceID: id, Amount: req.Amount}
	if req.Reason == nil {
		errs = append(errs, missing("reason"))
	} else {
		cmd.Reason = *req.Reason
	}
	if req.Memo != nil {
		cmd.Memo = *req.Memo
	}
	for i, l := range req.Lines {
		prefix := "lines[" + strconv.Itoa(i) + "]."
		var in creditnote.LineInput
		if l.Description == nil {
			errs = append(errs, missing(prefix+"description"))
		} else {
			in.Description = *l.Description
		}
		if l.Amount == nil {
			errs = append(errs, missing(prefix+"amount"))
		} else {
			in.Amount = *l.Amount
		}
		cmd.Lines = append(cmd.Lines, in)
	}
	return cmd, errors.Join(errs...)
}

func newCreditNoteResponse(v app.CreditNoteView) creditNoteResponse {
	out := creditNoteResponse{
		ID: v.ID, Number: v.Number, InvoiceID: v.InvoiceID, InvoiceNumber: v.InvoiceNumber,
		Currency: v.Currency, Lines: []creditLineResponse{}, Amount: v.Amount.Amount(),
		PrePaymentAmount: v.Allocation.PrePayment.Amount(), PostPaymentAmount: v.Allocation.PostPayment.Amount(),
		Reason: v.Reason, Memo: optional(v.Memo), IssuedAt: timestamp(v.IssuedAt),
	}
	for _, l := range v.Lines {
		out.Lines = append(out.Lines, creditLineResponse{Description: l.Description, Amount: l.Amount.Amount()})
	}
	return out
}

// renderCreditNote renders the 201 answer to a credit note's issue: its JSON
// and Location. It fails only if the credit note cannot be encoded.
func renderCreditNote(v app.CreditNoteView) (response, error) {
	body, err := encodeJSON(newCreditNoteResponse(v))
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusCreated, body: body,
		header: map[string]string{"Content-Type": "application/json", "Location": creditNotePath(v.ID)}}, nil
}

// frameCreditNote frames the answer carrying the credit note res stored:
// see renderCreditNote. It fails if res is not a credit note's, its view
// does not decode, or names another credit note than res.
func frameCreditNote(res app.Result) (response, error) {
	v, err := res.CreditNote()
	if err != nil {
		return response{}, err
	}
	if uuid.UUID(v.ID) != res.ID {
		return response{}, fmt.Errorf("http: stored result of credit note %s holds the view of %s", res.ID, v.ID)
	}
	return renderCreditNote(v)
}

// issueCreditNote serves POST /v1/invoices/{id}/credit_notes: 201 with the
// credit note. If-Match names versions of the invoice; an Idempotency-Key
// replays the first answer as for every change (see change).
func (s *server) issueCreditNote(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	cmd, body, ok := decodeInvoiceCommand[app.IssueCreditNote, creditNoteRequest](s, w, r, tenant)
	if !ok {
		return
	}
	cmd.IfMatch = ifMatch(r)
	if cmd.Idempotency, ok = idempotencyKey(w, r, body); !ok {
		return
	}
	issued, err := s.app.IssueCreditNote.Handle(r.Context(), cmd)
	writeChange(w, r, err, issued.Result, frameCreditNote,
		func() (response, error) { return renderCreditNote(app.CreditNoteViewOf(issued.CreditNote)) })
}

// getCreditNote serves GET /v1/credit_notes/{id}.
func (s *server) getCreditNote(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := creditnote.ParseID(chi.URLParam(r, "id"))
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	cn, err := s.app.GetCreditNote.Handle(r.Context(), app.GetCreditNote{Tenant: tenant, CreditNoteID: id})
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newCreditNoteResponse(app.CreditNoteViewOf(cn)))
}

// listCreditNotes serves GET /v1/credit_notes?limit=&starting_after=.
func (s *server) listCreditNotes(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	s.creditNotePage(w, r, app.ListCreditNotes{Tenant: tenant})
}

// listInvoiceCreditNotes serves GET /v1/invoices/{id}/credit_notes?limit=&starting_after=.
func (s *server) listInvoiceCreditNotes(w http.ResponseWriter, r *http.Request, tenant kernel.TenantID) {
	id, err := invoiceID(r)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	s.creditNotePage(w, r, app.ListCreditNotes{Tenant: tenant, InvoiceID: &id})
}

// creditNotePage writes the page q selects, with the request's paging
// parameters, or the problem.
func (s *server) creditNotePage(w http.ResponseWriter, r *http.Request, q app.ListCreditNotes) {
	var err error
	if q.Limit, q.StartingAfter, err = pageParams(r.URL.Query(), creditnote.ParseID); err != nil {
		writeProblem(w, r, err)
		return
	}
	page, err := s.app.ListCreditNotes.Handle(r.Context(), q)
	if err != nil {
		writeProblem(w, r, err)
		return
	}
	writeList(w, r, page.CreditNotes, page.HasMore, func(v app.CreditNoteView) ([]byte, error) {
		return encodeJSON(newCreditNoteResponse(v))
	})
}
