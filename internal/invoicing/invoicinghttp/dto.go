package invoicinghttp

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Request bodies. Pointer fields tell an absent field from a zero one.

type customerJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type createInvoiceRequest struct {
	Customer *customerJSON `json:"customer"`
	Currency *string       `json:"currency"`
	DueDate  *string       `json:"due_date"`
	Lines    []lineRequest `json:"lines"`
	Metadata metadataInput `json:"metadata"`
}

type lineRequest struct {
	Description *string `json:"description"`
	Quantity    *int64  `json:"quantity"`
	UnitAmount  *int64  `json:"unit_amount"`
	TaxRateBPS  *int64  `json:"tax_rate_bps"`
}

type payRequest struct {
	Amount    *int64  `json:"amount"`
	Reference *string `json:"reference"`
	Currency  *string `json:"currency"`
}

type voidRequest struct {
	Reason *string `json:"reason"`
}

// Errors of request mapping. They are domain-shaped (KindInvalid, so 422)
// because the body is well-formed JSON that breaks a rule of the API.
var (
	errMissingField  = &failure.Error{Kind: failure.Invalid, Code: "missing_field", Message: "a value is required"}
	errInvalidStatus = &failure.Error{Kind: failure.Invalid, Code: "invalid_status", Field: "status", Message: "status must be one of draft, open, paid, void, uncollectible"}
)

// missing returns errMissingField for field.
func missing(field string) error {
	return errMissingField.At(field)
}

// command maps the body to CreateInvoice. It fails with every missing
// required field and a due date invoice.ParseDueDate refuses, joined.
func (req createInvoiceRequest) command(t kernel.TenantID) (app.CreateInvoice, error) {
	var errs []error
	cmd := app.CreateInvoice{Tenant: t, Lines: make([]invoice.LineInput, 0, len(req.Lines))}
	if req.Customer == nil {
		errs = append(errs, missing("customer"))
	} else {
		cmd.Customer = invoice.Customer{Name: req.Customer.Name, Email: req.Customer.Email}
	}
	if req.Currency == nil {
		errs = append(errs, missing("currency"))
	} else {
		cmd.Currency = *req.Currency
	}
	if req.DueDate != nil {
		d, err := invoice.ParseDueDate(*req.DueDate)
		errs = append(errs, err)
		cmd.DueDate = d
	}
	for i, l := range req.Lines {
		in, err := l.input("lines[" + strconv.Itoa(i) + "].")
		errs = append(errs, err)
		cmd.Lines = append(cmd.Lines, in)
	}
	cmd.Metadata = req.Metadata.patch()
	return cmd, errors.Join(errs...)
}

// input maps a line, naming missing fields with prefix.
func (l lineRequest) input(prefix string) (invoice.LineInput, error) {
	var errs []error
	var in invoice.LineInput
	if l.Description == nil {
		errs = append(errs, missing(prefix+"description"))
	} else {
		in.Description = *l.Description
	}
	if l.Quantity == nil {
		errs = append(errs, missing(prefix+"quantity"))
	} else {
		in.Quantity = *l.Quantity
	}
	if l.UnitAmount == nil {
		errs = append(errs, missing(prefix+"unit_amount"))
	} else {
		in.UnitAmount = *l.UnitAmount
	}
	if l.TaxRateBPS != nil {
		in.TaxRateBPS = *l.TaxRateBPS
	}
	return in, errors.Join(errs...)
}

// command maps the body to PayInvoice, failing with the missing fields.
func (req payRequest) command(t kernel.TenantID, id invoice.ID) (app.PayInvoice, error) {
	var errs []error
	cmd := app.PayInvoice{Tenant: t, InvoiceID: id}
	if req.Amount == nil {
		errs = append(errs, missing("amount"))
	} else {
		cmd.Amount = *req.Amount
	}
	if req.Reference == nil {
		errs = append(errs, missing("reference"))
	} else {
		cmd.Reference = *req.Reference
	}
	cmd.Currency = req.Currency
	return cmd, errors.Join(errs...)
}

// Response bodies.

type invoiceResponse struct {
	ID         invoice.ID      `json:"id"`
	Number     *string         `json:"number"`
	Status     invoice.Status  `json:"status"`
	Currency   kernel.Currency `json:"currency"`
	Customer   customerJSON    `json:"customer"`
	Lines      []lineResponse  `json:"lines"`
	LineCount  int             `json:"line_count"`
	Subtotal   int64           `json:"subtotal"`
	Tax        int64           `json:"tax"`
	Total      int64           `json:"total"`
	AmountPaid int64           `json:"amount_paid"`
	AmountDue  int64           `json:"amount_due"`
	// AmountCredited is what credit notes took off the invoice; RefundDue
	// the part of it beyond what was due, owed back to the customer.
	AmountCredited int64             `json:"amount_credited"`
	RefundDue      int64             `json:"refund_due"`
	Payments       []paymentResponse `json:"payments"`
	DueDate        *string           `json:"due_date"`
	IssuedAt       *string           `json:"issued_at"`
	PaidAt         *string           `json:"paid_at"`
	VoidedAt       *string           `json:"voided_at"`
	VoidReason     *string           `json:"void_reason"`
	Version        int64             `json:"version"`
	CreatedAt      string            `json:"created_at"`
	UpdatedAt      string            `json:"updated_at"`

	Metadata              map[string]string `json:"metadata"` // {} for none
	Overdue               bool              `json:"overdue"`
	OverdueAt             *string           `json:"overdue_at"`
	MarkedUncollectibleAt *string           `json:"marked_uncollectible_at"`
}

type lineResponse struct {
	ID          invoice.LineID `json:"id"`
	Description string         `json:"description"`
	Quantity    int64          `json:"quantity"`
	UnitAmount  int64          `json:"unit_amount"`
	TaxRateBPS  int64          `json:"tax_rate_bps"`
	Amount      int64          `json:"amount"`
}

type paymentResponse struct {
	ID         invoice.PaymentID `json:"id"`
	Amount     int64             `json:"amount"`
	Reference  string            `json:"reference"`
	ReceivedAt string            `json:"received_at"`
}

// listResponse is a page of invoices or lines.
type listResponse struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
}

func newInvoiceResponse(v app.InvoiceView) invoiceResponse {
	out := invoiceResponse{
		ID:             v.ID,
		Number:         optional(v.Number),
		Status:         v.Status,
		Currency:       v.Currency,
		Customer:       customerJSON{Name: v.Customer.Name, Email: v.Customer.Email},
		Lines:          make([]lineResponse, 0, len(v.Lines)),
		LineCount:      v.LineCount,
		Subtotal:       v.Totals.Subtotal.Amount(),
		Tax:            v.Totals.Tax.Amount(),
		Total:          v.Totals.Total.Amount(),
		AmountPaid:     v.Totals.AmountPaid.Amount(),
		AmountDue:      v.Totals.AmountDue.Amount(),
		AmountCredited: v.Totals.AmountCredited.Amount(),
		RefundDue:      v.Totals.RefundDue.Amount(),
		Payments:       make([]paymentResponse, 0, len(v.Payments)),
		IssuedAt:       optionalTime(v.IssuedAt),
		PaidAt:         optionalTime(v.PaidAt),
		VoidedAt:       optionalTime(v.VoidedAt),
		VoidReason:     optional(v.VoidReason),
		Version:        v.Version,
		CreatedAt:      timestamp(v.CreatedAt),
		UpdatedAt:      timestamp(v.UpdatedAt),

		Metadata:              map[string]string(v.Metadata),
		Overdue:               v.Overdue,
		OverdueAt:             optionalTime(v.OverdueAt),
		MarkedUncollectibleAt: optionalTime(v.MarkedUncollectibleAt),
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if !v.DueDate.IsZero() {
		out.DueDate = optional(v.DueDate.Format(time.DateOnly))
	}
	for _, l := range v.Lines {
		out.Lines = append(out.Lines, newLineResponse(l))
	}
	for _, p := range v.Payments {
		out.Payments = append(out.Payments, paymentResponse{
			ID: p.ID, Amount: p.Amount.Amount(), Reference: p.Reference, ReceivedAt: timestamp(p.ReceivedAt),
		})
	}
	return out
}

func newLineResponse(l invoice.Line) lineResponse {
	return lineResponse{
		ID: l.ID, Description: l.Description, Quantity: l.Quantity,
		UnitAmount: l.UnitAmount.Amount(), TaxRateBPS: l.TaxRateBPS, Amount: l.Amount.Amount(),
	}
}

// fill encodes items with encode, one by one, for a page of at most
// app.PageBytes: it stops before the item that would pass that budget (the
// first always goes in, so a reader moves on) and reports whether it left
// items out. It fails with encode's error.
func fill[T any](items []T, encode func(T) ([]byte, error)) (data []json.RawMessage, cut bool, err error) {
	data = make([]json.RawMessage, 0, len(items))
	size := 0
	for _, item := range items {
		b, err := encode(item)
		if err != nil {
			return nil, false, err
		}
		if len(data) > 0 && size+len(b) > app.PageBytes {
			return data, true, nil
		}
		size += len(b)
		data = append(data, b)
	}
	return data, false, nil
}

// timestamp formats t as RFC 3339 in UTC.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
