package notification

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The event types this context reacts to: CloudEvent types of the invoicing
// service, equal to their NATS subjects.
const (
	InvoiceIssued = "invoicing.invoice.issued"
	InvoicePaid   = "invoicing.invoice.paid"
	InvoiceVoided = "invoicing.invoice.voided"
	// The types the payment reminders follow besides paid and voided.
	InvoiceOverdue             = "invoicing.invoice.overdue"
	InvoicePaymentRecorded     = "invoicing.invoice.payment_recorded"
	InvoiceCredited            = "invoicing.invoice.credited"
	InvoiceMarkedUncollectible = "invoicing.invoice.marked_uncollectible"
)

// ErrMalformed marks an event that cannot be decoded: redelivering it cannot
// help, so the consumer terminates it.
var ErrMalformed = errors.New("notification: malformed event")

// Event is the part of a published CloudEvent this context reads. Unknown
// attributes are ignored, as the contract requires of subscribers.
type Event struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Subject  string    `json:"subject"` // the invoice id
	Time     time.Time `json:"time"`
	TenantID string    `json:"tenantid"`
	Sequence Sequence  `json:"sequence"`
	// InvoiceVersion is the invoice's version after the event (extension
	// invoiceversion): it orders one invoice's events whatever order they
	// arrive in.
	InvoiceVersion int64           `json:"invoiceversion"`
	Data           json.RawMessage `json:"data"`
	// TraceParent and TraceState are the W3C trace context of the request
	// that caused the event (extensions traceparent, tracestate), if any:
	// the consumer's and the tasks' spans continue that trace (StartSpan).
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
	// Raw is the CloudEvent as published, byte for byte (set by
	// DecodeEvent): the body of its webhooks.
	Raw []byte `json:"-"`
}

// Sequence is the CloudEvent extension `sequence`, kept as its decimal text.
// It decodes from a JSON string (the contract) or a JSON number (what the
// service published before sequence became a string).
type Sequence string

// UnmarshalJSON accepts "123" and 123; it returns an error for anything else.
func (s *Sequence) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
	}
	if _, err := strconv.ParseInt(text, 10, 64); err != nil {
		return fmt.Errorf("sequence %s: not a decimal integer", b)
	}
	*s = Sequence(text)
	return nil
}

// DecodeEvent decodes a structured-mode JSON CloudEvent. It returns an error
// wrapping ErrMalformed if b is not one or lacks an id or a type.
func DecodeEvent(b []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if ev.ID == "" || ev.Type == "" {
		return Event{}, fmt.Errorf("%w: id or type missing", ErrMalformed)
	}
	// The id goes into mail headers (Message-ID): letters, digits and
	// hyphens only, as a UUID has.
	if len(ev.ID) > 64 || strings.Trim(ev.ID, "0123456789abcdefABCDEF-") != "" {
		return Event{}, fmt.Errorf("%w: id %q is not a UUID", ErrMalformed, ev.ID)
	}
	ev.Raw = b
	return ev, nil
}

// Customer is the recipient of an invoice's emails.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Line is an invoice line as the issued event carries it.
type Line struct {
	Description string `json:"description"`
	Quantity    int64  `json:"quantity"`
	UnitAmount  int64  `json:"unit_amount"`
	TaxRateBps  int64  `json:"tax_rate_bps"`
	Amount      int64  `json:"amount"`
	Tax         int64  `json:"tax"`
}

// Issued is the data of invoicing.invoice.issued. Lines holds at most the
// first lines of the invoice (the contract caps them); LineCount is the total
// (0 from publishers that predate it: then len(Lines) is the total).
type Issued struct {
	InvoiceID string    `json:"invoice_id"`
	Number    string    `json:"number"`
	Currency  string    `json:"currency"`
	Customer  Customer  `json:"customer"`
	DueDate   string    `json:"due_date"`
	Lines     []Line    `json:"lines"`
	LineCount int       `json:"line_count"`
	Subtotal  int64     `json:"subtotal"`
	Tax       int64     `json:"tax"`
	Total     int64     `json:"total"`
	AmountDue int64     `json:"amount_due"`
	IssuedAt  time.Time `json:"issued_at"`
}

// Paid is the data of invoicing.invoice.paid.
type Paid struct {
	InvoiceID  string   `json:"invoice_id"`
	Number     string   `json:"number"`
	Customer   Customer `json:"customer"`
	Currency   string   `json:"currency"`
	Total      int64    `json:"total"`
	AmountPaid int64    `json:"amount_paid"`
	// PrePaymentCredit is what credit notes settled of Total (0 without).
	PrePaymentCredit int64     `json:"pre_payment_credit"`
	PaidAt           time.Time `json:"paid_at"`
}

// Voided is the data of invoicing.invoice.voided. It names no customer: the
// context remembers the recipient from the issued event (see Recipient).
type Voided struct {
	InvoiceID string    `json:"invoice_id"`
	Number    string    `json:"number"`
	Reason    string    `json:"reason"`
	VoidedAt  time.Time `json:"voided_at"`
}

// decodeData decodes ev.Data into v, wrapping ErrMalformed on failure.
func decodeData(ev Event, v any) error {
	if err := json.Unmarshal(ev.Data, v); err != nil {
		return fmt.Errorf("%w: %s data: %v", ErrMalformed, ev.Type, err)
	}
	return nil
}
