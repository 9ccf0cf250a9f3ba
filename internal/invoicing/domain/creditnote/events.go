package creditnote

import (
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// Event is a fact a credit note recorded. Its JSON encoding is the event's
// published data: a public contract (api/asyncapi.yaml).
type Event interface {
	// Type returns the stable event name, e.g. "credit_note.issued".
	Type() string
	// Meta returns the envelope fields; Version is the credit note's.
	Meta() kernel.EventMeta
	// AggregateID returns the credit note the event belongs to.
	AggregateID() ID
}

// TypeIssued names Issued.
const TypeIssued = "credit_note.issued"

// EventTypes lists every event type name of credit notes.
var EventTypes = []string{TypeIssued}

// LineData is a line as events carry it.
type LineData struct {
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
}

func lineData(lines []Line) []LineData {
	out := make([]LineData, len(lines))
	for i, l := range lines {
		out[i] = LineData{Description: l.Description, Amount: l.Amount.Amount()}
	}
	return out
}

// Issued: a credit note was issued against an invoice. The invoice records
// invoice.credited with its new amounts in the same transaction.
type Issued struct {
	kernel.EventMeta  `json:"-"`
	CreditNoteID      ID              `json:"credit_note_id"`
	Number            string          `json:"number"`
	InvoiceID         invoice.ID      `json:"invoice_id"`
	InvoiceNumber     string          `json:"invoice_number"`
	Currency          kernel.Currency `json:"currency"`
	Lines             []LineData      `json:"lines"`
	Amount            int64           `json:"amount"`
	PrePaymentAmount  int64           `json:"pre_payment_amount"`
	PostPaymentAmount int64           `json:"post_payment_amount"`
	Reason            Reason          `json:"reason"`
	Memo              string          `json:"memo,omitempty"`
	IssuedAt          time.Time       `json:"issued_at"`
}

// Type returns "credit_note.issued".
func (Issued) Type() string { return TypeIssued }

// AggregateID returns the credit note's id.
func (e Issued) AggregateID() ID { return e.CreditNoteID }
