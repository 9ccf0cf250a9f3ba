package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/creditnote"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Resource is the kind of resource a change answers with.
type Resource string

// The resources a change answers with.
const (
	ResourceInvoice    Resource = "invoice"
	ResourceCreditNote Resource = "credit_note"
)

// Result is the answer to a change as its idempotency key keeps it: the
// resource the change answers with (its kind, id and version) and the
// app's view of it as the change left it, encoded by the app
// (InvoiceResult, CreditNoteResult; read back with Invoice, CreditNote).
//
// It knows no transport. A use case computes it from its aggregate after
// the domain change and hands it to the repository with the write, which
// stores it without looking inside; the caller frames it (status, headers,
// body) for the first answer and for every replay alike, so both are made
// from the same stored bytes. The zero Result is none.
type Result struct {
	Resource Resource
	ID       uuid.UUID
	// Version is the resource's version: an invoice's (its ETag), 1 for a
	// credit note, which never changes.
	Version int64
	View    []byte // the view's JSON, the app's own encoding
}

// IsZero reports whether r is no Result.
func (r Result) IsZero() bool { return r.Resource == "" }

// errResult is the error of a Result that is not what its reader expects.
var errResult = errors.New("app: stored result")

// InvoiceResult returns the Result answering with inv: its view with every
// line (ViewOf). It fails only if the view cannot be encoded.
func InvoiceResult(inv *invoice.Invoice) (Result, error) {
	view, err := json.Marshal(newInvoiceRecord(ViewOf(inv)))
	if err != nil {
		return Result{}, fmt.Errorf("app: encode invoice %s: %w", inv.ID(), err)
	}
	return Result{Resource: ResourceInvoice, ID: uuid.UUID(inv.ID()), Version: inv.Version(), View: view}, nil
}

// CreditNoteResult returns the Result answering with cn. It fails only if
// the view cannot be encoded.
func CreditNoteResult(cn *creditnote.CreditNote) (Result, error) {
	view, err := json.Marshal(newCreditNoteRecord(CreditNoteViewOf(cn)))
	if err != nil {
		return Result{}, fmt.Errorf("app: encode credit note %s: %w", cn.ID(), err)
	}
	return Result{Resource: ResourceCreditNote, ID: uuid.UUID(cn.ID()), Version: cn.Version(), View: view}, nil
}

// Invoice returns the invoice view r carries. It fails if r answers with
// another resource or its view does not decode.
func (r Result) Invoice() (InvoiceView, error) {
	if r.Resource != ResourceInvoice {
		return InvoiceView{}, fmt.Errorf("%w: a %q, not an invoice", errResult, r.Resource)
	}
	var rec invoiceRecord
	if err := json.Unmarshal(r.View, &rec); err != nil {
		return InvoiceView{}, fmt.Errorf("%w: invoice %s: %w", errResult, r.ID, err)
	}
	v, err := rec.view()
	if err != nil {
		return InvoiceView{}, fmt.Errorf("%w: invoice %s: %w", errResult, r.ID, err)
	}
	return v, nil
}

// CreditNote returns the credit note view r carries. It fails if r answers
// with another resource or its view does not decode.
func (r Result) CreditNote() (CreditNoteView, error) {
	if r.Resource != ResourceCreditNote {
		return CreditNoteView{}, fmt.Errorf("%w: a %q, not a credit note", errResult, r.Resource)
	}
	var rec creditNoteRecord
	if err := json.Unmarshal(r.View, &rec); err != nil {
		return CreditNoteView{}, fmt.Errorf("%w: credit note %s: %w", errResult, r.ID, err)
	}
	v, err := rec.view()
	if err != nil {
		return CreditNoteView{}, fmt.Errorf("%w: credit note %s: %w", errResult, r.ID, err)
	}
	return v, nil
}

// invoiceResult returns the Result of inv to store under key: the zero
// Result without a key, as nothing is stored then.
func invoiceResult(key *IdempotentRequest, inv *invoice.Invoice) (Result, error) {
	if key == nil {
		return Result{}, nil
	}
	return InvoiceResult(inv)
}

// invoiceRecord is the stored encoding of an InvoiceView: plain values, so
// that it reads back exactly (amounts in minor units of Currency).
type invoiceRecord struct {
	ID                    uuid.UUID         `json:"id"`
	Number                string            `json:"number,omitempty"`
	Status                invoice.Status    `json:"status"`
	Currency              kernel.Currency   `json:"currency"`
	CustomerName          string            `json:"customer_name"`
	CustomerEmail         string            `json:"customer_email"`
	DueDate               time.Time         `json:"due_date,omitzero"`
	Lines                 []lineRecord      `json:"lines"`
	LineCount             int               `json:"line_count"`
	Subtotal              int64             `json:"subtotal"`
	Tax                   int64             `json:"tax"`
	Total                 int64             `json:"total"`
	AmountPaid            int64             `json:"amount_paid"`
	AmountDue             int64             `json:"amount_due"`
	AmountCredited        int64             `json:"amount_credited"`
	RefundDue             int64             `json:"refund_due"`
	Payments              []paymentRecord   `json:"payments"`
	IssuedAt              time.Time         `json:"issued_at,omitzero"`
	PaidAt                time.Time         `json:"paid_at,omitzero"`
	VoidedAt              time.Time         `json:"voided_at,omitzero"`
	VoidReason            string            `json:"void_reason,omitempty"`
	Version               int64             `json:"version"`
	CreatedAt             time.Time         `json:"created_at"`
	UpdatedAt             time.Time         `json:"updated_at"`
	Metadata              map[string]string `json:"metadata,omitempty"`
	MarkedUncollectibleAt time.Time         `json:"marked_uncollectible_at,omitzero"`
	OverdueAt             time.Time         `json:"overdue_at,omitzero"`
	Overdue               bool              `json:"overdue"`
}

type lineRecord struct {
	ID          uuid.UUID `json:"id"`
	Description string    `json:"description"`
	Quantity    int64     `json:"quantity"`
	UnitAmount  int64     `json:"unit_amount"`
	TaxRateBPS  int64     `json:"tax_rate_bps"`
	Amount      int64     `json:"amount"`
	Tax         int64     `json:"tax"`
}

type paymentRecord struct {
	ID         uuid.UUID `json:"id"`
	Amount     int64     `json:"amount"`
	Reference  string    `json:"reference"`
	ReceivedAt time.Time `json:"received_at"`
}

func newInvoiceRecord(v InvoiceView) invoiceRecord {
	t := v.Totals
	rec := invoiceRecord{
		ID: uuid.UUID(v.ID), Number: v.Number, Status: v.Status, Currency: v.Currency,
		CustomerName: v.Customer.Name, CustomerEmail: v.Customer.Email, DueDate: v.DueDate,
		Lines: make([]lineRecord, 0, len(v.Lines)), LineCount: v.LineCount,
		Subtotal: t.Subtotal.Amount(), Tax: t.Tax.Amount(), Total: t.Total.Amount(), AmountPaid: t.AmountPaid.Amount(),
		AmountDue: t.AmountDue.Amount(), AmountCredited: t.AmountCredited.Amount(), RefundDue: t.RefundDue.Amount(),
		Payments: make([]paymentRecord, 0, len(v.Payments)),
		IssuedAt: v.IssuedAt, PaidAt: v.PaidAt, VoidedAt: v.VoidedAt, VoidReason: v.VoidReason,
		Version: v.Version, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Metadata: v.Metadata,
		MarkedUncollectibleAt: v.MarkedUncollectibleAt, OverdueAt: v.OverdueAt, Overdue: v.Overdue,
	}
	for _, l := range v.Lines {
		rec.Lines = append(rec.Lines, lineRecord{ID: uuid.UUID(l.ID), Description: l.Description, Quantity: l.Quantity,
			UnitAmount: l.UnitAmount.Amount(), TaxRateBPS: l.TaxRateBPS, Amount: l.Amount.Amount(), Tax: l.Tax.Amount()})
	}
	for _, p := range v.Payments {
		rec.Payments = append(rec.Payments, paymentRecord{ID: uuid.UUID(p.ID), Amount: p.Amount.Amount(),
			Reference: p.Reference, ReceivedAt: p.ReceivedAt})
	}
	return rec
}

// view returns the InvoiceView rec encodes. It fails if its currency is
// not one.
func (rec invoiceRecord) view() (InvoiceView, error) {
	m := moneyIn(rec.Currency)
	v := InvoiceView{
		ID: invoice.ID(rec.ID), Number: rec.Number, Status: rec.Status, Currency: rec.Currency,
		Customer: invoice.Customer{Name: rec.CustomerName, Email: rec.CustomerEmail}, DueDate: rec.DueDate,
		LineCount: rec.LineCount,
		Totals: invoice.Totals{Subtotal: m.of(rec.Subtotal), Tax: m.of(rec.Tax), Total: m.of(rec.Total),
			AmountPaid: m.of(rec.AmountPaid), AmountDue: m.of(rec.AmountDue),
			AmountCredited: m.of(rec.AmountCredited), RefundDue: m.of(rec.RefundDue)},
		IssuedAt: rec.IssuedAt.UTC(), PaidAt: rec.PaidAt.UTC(), VoidedAt: rec.VoidedAt.UTC(), VoidReason: rec.VoidReason,
		Version: rec.Version, CreatedAt: rec.CreatedAt.UTC(), UpdatedAt: rec.UpdatedAt.UTC(), Metadata: rec.Metadata,
		MarkedUncollectibleAt: rec.MarkedUncollectibleAt.UTC(), OverdueAt: rec.OverdueAt.UTC(), Overdue: rec.Overdue,
	}
	for _, l := range rec.Lines {
		v.Lines = append(v.Lines, invoice.Line{ID: invoice.LineID(l.ID), Description: l.Description, Quantity: l.Quantity,
			UnitAmount: m.of(l.UnitAmount), TaxRateBPS: l.TaxRateBPS, Amount: m.of(l.Amount), Tax: m.of(l.Tax)})
	}
	for _, p := range rec.Payments {
		v.Payments = append(v.Payments, invoice.Payment{ID: invoice.PaymentID(p.ID), Amount: m.of(p.Amount),
			Reference: p.Reference, ReceivedAt: p.ReceivedAt.UTC()})
	}
	return v, m.err
}

// creditNoteRecord is the stored encoding of a CreditNoteView, as
// invoiceRecord is of an InvoiceView.
type creditNoteRecord struct {
	ID                uuid.UUID          `json:"id"`
	Number            string             `json:"number"`
	InvoiceID         uuid.UUID          `json:"invoice_id"`
	InvoiceNumber     string             `json:"invoice_number"`
	Currency          kernel.Currency    `json:"currency"`
	Lines             []creditLineRecord `json:"lines"`
	Amount            int64              `json:"amount"`
	PrePaymentAmount  int64              `json:"pre_payment_amount"`
	PostPaymentAmount int64              `json:"post_payment_amount"`
	Reason            creditnote.Reason  `json:"reason"`
	Memo              string             `json:"memo,omitempty"`
	IssuedAt          time.Time          `json:"issued_at"`
}

type creditLineRecord struct {
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
}

func newCreditNoteRecord(v CreditNoteView) creditNoteRecord {
	rec := creditNoteRecord{
		ID: uuid.UUID(v.ID), Number: v.Number, InvoiceID: uuid.UUID(v.InvoiceID), InvoiceNumber: v.InvoiceNumber,
		Currency: v.Currency, Lines: make([]creditLineRecord, 0, len(v.Lines)), Amount: v.Amount.Amount(),
		PrePaymentAmount: v.Allocation.PrePayment.Amount(), PostPaymentAmount: v.Allocation.PostPayment.Amount(),
		Reason: v.Reason, Memo: v.Memo, IssuedAt: v.IssuedAt,
	}
	for _, l := range v.Lines {
		rec.Lines = append(rec.Lines, creditLineRecord{Description: l.Description, Amount: l.Amount.Amount()})
	}
	return rec
}

// view returns the CreditNoteView rec encodes. It fails if its currency is
// not one.
func (rec creditNoteRecord) view() (CreditNoteView, error) {
	m := moneyIn(rec.Currency)
	v := CreditNoteView{
		ID: creditnote.ID(rec.ID), Number: rec.Number, InvoiceID: invoice.ID(rec.InvoiceID), InvoiceNumber: rec.InvoiceNumber,
		Currency: rec.Currency, Amount: m.of(rec.Amount),
		Allocation: invoice.CreditAllocation{PrePayment: m.of(rec.PrePaymentAmount), PostPayment: m.of(rec.PostPaymentAmount)},
		Reason:     rec.Reason, Memo: rec.Memo, IssuedAt: rec.IssuedAt.UTC(),
	}
	for _, l := range rec.Lines {
		v.Lines = append(v.Lines, creditnote.Line{Description: l.Description, Amount: m.of(l.Amount)})
	}
	return v, m.err
}

// money makes the amounts of one currency, keeping the first error.
type money struct {
	currency kernel.Currency
	err      error
}

func moneyIn(c kernel.Currency) *money { return &money{currency: c} }

func (m *money) of(minor int64) kernel.Money {
	v, err := kernel.NewMoney(minor, m.currency)
	if err != nil && m.err == nil {
		m.err = err
	}
	return v
}
