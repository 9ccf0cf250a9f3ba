package invoice

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Event is a fact the aggregate recorded. Its JSON encoding is the event's
// published data (the CloudEvent "data" and the outbox payload), so the field
// tags below are a public contract: add fields, never rename or remove one.
type Event interface {
	// Type returns the stable event name, e.g. "invoice.paid".
	Type() string
	// Meta returns the envelope fields: id, tenant, version, time.
	Meta() kernel.EventMeta
	// AggregateID returns the invoice the event belongs to.
	AggregateID() ID
}

// InvoiceRef names the invoice in an event's data.
type InvoiceRef struct {
	InvoiceID ID `json:"invoice_id"`
}

// AggregateID returns the invoice id.
func (r InvoiceRef) AggregateID() ID { return r.InvoiceID }

// LineData is a line as events carry it.
type LineData struct {
	ID          LineID `json:"id"`
	Description string `json:"description"`
	Quantity    int64  `json:"quantity"`
	UnitAmount  int64  `json:"unit_amount"`
	TaxRateBPS  int64  `json:"tax_rate_bps"`
	Amount      int64  `json:"amount"`
	Tax         int64  `json:"tax"`
}

// MaxEventLines is the most lines an invoice.created or invoice.issued event
// carries: the first ones, in invoice order; LineCount says how many the
// invoice has, and the full list is read over HTTP
// (GET /v1/invoices/{id}/lines). It bounds an event's size whatever the
// invoice, so that every event the API commits fits the broker's message
// limit (relay.MaxEventBytes).
const MaxEventLines = 100

// eventLines returns the lines an event carries: at most MaxEventLines.
func eventLines(lines []Line) []LineData {
	return lineData(lines[:min(len(lines), MaxEventLines)])
}

func lineData(lines []Line) []LineData {
	out := make([]LineData, len(lines))
	for i, l := range lines {
		out[i] = LineData{
			ID: l.ID, Description: l.Description, Quantity: l.Quantity,
			UnitAmount: l.UnitAmount.Amount(), TaxRateBPS: l.TaxRateBPS,
			Amount: l.Amount.Amount(), Tax: l.Tax.Amount(),
		}
	}
	return out
}

// Event type names.
const (
	TypeCreated         = "invoice.created"
	TypeLineAdded       = "invoice.line_added"
	TypeLineRemoved     = "invoice.line_removed"
	TypeIssued          = "invoice.issued"
	TypePaymentRecorded = "invoice.payment_recorded"
	TypePaid            = "invoice.paid"
	TypeVoided          = "invoice.voided"
)

// EventTypes lists every event type name.
var EventTypes = []string{TypeCreated, TypeLineAdded, TypeLineRemoved, TypeIssued, TypePaymentRecorded, TypePaid, TypeVoided,
	TypeMarkedUncollectible, TypeOverdue, TypeUpdated, TypeCredited}

// InvoiceCreated: a draft invoice was created. Lines holds its first
// MaxEventLines lines, LineCount all of them.
type InvoiceCreated struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Currency  kernel.Currency `json:"currency"`
	Customer  Customer        `json:"customer"`
	DueDate   string          `json:"due_date,omitempty"` // YYYY-MM-DD
	Lines     []LineData      `json:"lines"`
	LineCount int             `json:"line_count"`
	Subtotal  int64           `json:"subtotal"`
	Tax       int64           `json:"tax"`
	Total     int64           `json:"total"`
	Metadata  Metadata        `json:"metadata,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// InvoiceLineAdded: a line was added to a draft.
type InvoiceLineAdded struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Line     LineData `json:"line"`
	Subtotal int64    `json:"subtotal"`
	Tax      int64    `json:"tax"`
	Total    int64    `json:"total"`
}

// InvoiceLineRemoved: a line was removed from a draft.
type InvoiceLineRemoved struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	LineID   LineID `json:"line_id"`
	Subtotal int64  `json:"subtotal"`
	Tax      int64  `json:"tax"`
	Total    int64  `json:"total"`
}

// InvoiceIssued: the invoice got its number and became open (due). Lines
// holds its first MaxEventLines lines, LineCount all of them.
type InvoiceIssued struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number    string          `json:"number"`
	Currency  kernel.Currency `json:"currency"`
	Customer  Customer        `json:"customer"`
	DueDate   string          `json:"due_date,omitempty"`
	Lines     []LineData      `json:"lines"`
	LineCount int             `json:"line_count"`
	Subtotal  int64           `json:"subtotal"`
	Tax       int64           `json:"tax"`
	Total     int64           `json:"total"`
	AmountDue int64           `json:"amount_due"`
	Metadata  Metadata        `json:"metadata,omitempty"`
	IssuedAt  time.Time       `json:"issued_at"`
}

// PaymentRecorded: a payment was received.
type PaymentRecorded struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number     string          `json:"number"`
	PaymentID  PaymentID       `json:"payment_id"`
	Currency   kernel.Currency `json:"currency"`
	Amount     int64           `json:"amount"`
	Reference  string          `json:"reference"`
	AmountPaid int64           `json:"amount_paid"`
	AmountDue  int64           `json:"amount_due"`
	ReceivedAt time.Time       `json:"received_at"`
}

// InvoicePaid: the invoice was paid in full. Raised exactly once per invoice.
type InvoicePaid struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number     string          `json:"number"`
	Customer   Customer        `json:"customer"`
	Currency   kernel.Currency `json:"currency"`
	Total      int64           `json:"total"`
	AmountPaid int64           `json:"amount_paid"`
	// PrePaymentCredit is the part of Total settled by credit notes, not
	// payments: AmountPaid + PrePaymentCredit = Total.
	PrePaymentCredit int64     `json:"pre_payment_credit"`
	Metadata         Metadata  `json:"metadata,omitempty"`
	PaidAt           time.Time `json:"paid_at"`
}

// InvoiceVoided: an open or uncollectible, unpaid invoice was cancelled.
type InvoiceVoided struct {
	kernel.EventMeta `json:"-"`
	InvoiceRef
	Number   string    `json:"number"`
	Reason   string    `json:"reason"`
	Metadata Metadata  `json:"metadata,omitempty"`
	VoidedAt time.Time `json:"voided_at"`
}

// Type returns "invoice.created".
func (InvoiceCreated) Type() string { return TypeCreated }

// Type returns "invoice.line_added".
func (InvoiceLineAdded) Type() string { return TypeLineAdded }

// Type returns "invoice.line_removed".
func (InvoiceLineRemoved) Type() string { return TypeLineRemoved }

// Type returns "invoice.issued".
func (InvoiceIssued) Type() string { return TypeIssued }

// Type returns "invoice.payment_recorded".
func (PaymentRecorded) Type() string { return TypePaymentRecorded }

// Type returns "invoice.paid".
func (InvoicePaid) Type() string { return TypePaid }

// Type returns "invoice.voided".
func (InvoiceVoided) Type() string { return TypeVoided }

// nextMeta advances the version for a new event at now and returns its meta.
// Every state change goes through it, so version always equals the number of
// events recorded over the invoice's life.
func (inv *Invoice) nextMeta(now time.Time) kernel.EventMeta {
	inv.version++
	inv.updatedAt = now.UTC()
	return kernel.EventMeta{ID: kernel.NewEventID(), Tenant: inv.tenant, Version: inv.version, OccurredAt: now.UTC()}
}

func (inv *Invoice) record(e Event) { inv.events = append(inv.events, e) }

// PullEvents returns the events recorded since the last pull, in order, and
// forgets them. The repository calls it when saving.
func (inv *Invoice) PullEvents() []Event {
	ev := inv.events
	inv.events = nil
	return ev
}
