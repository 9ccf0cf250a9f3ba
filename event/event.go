// Package event is what a Go subscriber of the invoicing service's events
// needs: the CloudEvent envelope the service publishes to the NATS
// JetStream stream INVOICING, and the data of each event type, as
// api/asyncapi.yaml describes them. It depends on the standard library
// only, so any team can import it without the service's own packages.
//
// An event arrives at least once: deduplicate on CloudEvent.ID, or per
// Subject ignore an InvoiceVersion not above the last one applied.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The event types, each also the NATS subject it is published on.
const (
	TypeInvoiceCreated             = "invoicing.invoice.created"
	TypeInvoiceLineAdded           = "invoicing.invoice.line_added"
	TypeInvoiceLineRemoved         = "invoicing.invoice.line_removed"
	TypeInvoiceIssued              = "invoicing.invoice.issued"
	TypePaymentRecorded            = "invoicing.invoice.payment_recorded"
	TypeInvoicePaid                = "invoicing.invoice.paid"
	TypeInvoiceVoided              = "invoicing.invoice.voided"
	TypeInvoiceCredited            = "invoicing.invoice.credited"
	TypeCreditNoteIssued           = "invoicing.credit_note.issued"
	TypeInvoiceMarkedUncollectible = "invoicing.invoice.marked_uncollectible"
	TypeInvoiceOverdue             = "invoicing.invoice.overdue"
	TypeInvoiceUpdated             = "invoicing.invoice.updated"
)

// Subjects is the NATS filter subject of every event the service publishes.
const Subjects = "invoicing.>"

// CloudEvent is the CloudEvents 1.0 envelope (structured mode, JSON) of
// every event, with the service's extension attributes.
type CloudEvent struct {
	SpecVersion     string    `json:"specversion"`     // "1.0"
	ID              string    `json:"id"`              // the event id (a UUID), unique forever
	Source          string    `json:"source"`          // "/invoicing"
	Type            string    `json:"type"`            // one of the Type constants; also the NATS subject
	Subject         string    `json:"subject"`         // the invoice id; for credit_note.* the credit note's
	Time            time.Time `json:"time"`            // when the change happened
	DataContentType string    `json:"datacontenttype"` // "application/json"
	TenantID        string    `json:"tenantid"`        // the tenant owning the invoice
	// Sequence is the outbox sequence, a positive 64-bit integer as a
	// decimal string: increasing in insertion order, with gaps; not a
	// commit order (order one invoice's events by InvoiceVersion).
	Sequence string `json:"sequence"`
	// InvoiceVersion is the invoice's version after the event: 1, 2, 3...
	// without gaps per invoice.
	InvoiceVersion int64 `json:"invoiceversion"`
	// CorrelationID is the X-Request-Id of the request that caused the
	// event; empty for events no request caused.
	CorrelationID string `json:"correlationid,omitempty"`
	// TraceParent and TraceState are the W3C trace context of that
	// request, when it sent one.
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
	// Data is the event's data; Decode reads it as its type's struct.
	Data json.RawMessage `json:"data"`
}

// ErrUnknownType is Decode's error for a type this package does not know:
// a subscriber should skip such an event (the service may add types).
var ErrUnknownType = errors.New("event: unknown event type")

// Parse reads a message body as a CloudEvent. It returns an error if the
// body is not JSON, not CloudEvents 1.0, or lacks the id, type, subject or
// data.
func Parse(body []byte) (CloudEvent, error) {
	var e CloudEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return CloudEvent{}, fmt.Errorf("event: not a CloudEvent: %w", err)
	}
	switch {
	case e.SpecVersion != "1.0":
		return CloudEvent{}, fmt.Errorf("event: specversion %q, want 1.0", e.SpecVersion)
	case e.ID == "" || e.Type == "" || e.Subject == "" || len(e.Data) == 0:
		return CloudEvent{}, errors.New("event: a CloudEvent needs id, type, subject and data")
	}
	return e, nil
}

// Decode returns the event's data as a pointer to its type's struct
// (*InvoicePaid for TypeInvoicePaid, ...). It returns an error wrapping
// ErrUnknownType for a type it does not know, or the JSON error if the data
// does not fit the type.
func (e CloudEvent) Decode() (any, error) {
	newData, ok := dataTypes[e.Type]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, e.Type)
	}
	v := newData()
	if err := json.Unmarshal(e.Data, v); err != nil {
		return nil, fmt.Errorf("event: %s data: %w", e.Type, err)
	}
	return v, nil
}

// dataTypes returns, per event type, a new value of its data's struct.
var dataTypes = map[string]func() any{
	TypeInvoiceCreated:             func() any { return new(InvoiceCreated) },
	TypeInvoiceLineAdded:           func() any { return new(InvoiceLineAdded) },
	TypeInvoiceLineRemoved:         func() any { return new(InvoiceLineRemoved) },
	TypeInvoiceIssued:              func() any { return new(InvoiceIssued) },
	TypePaymentRecorded:            func() any { return new(PaymentRecorded) },
	TypeInvoicePaid:                func() any { return new(InvoicePaid) },
	TypeInvoiceVoided:              func() any { return new(InvoiceVoided) },
	TypeInvoiceCredited:            func() any { return new(InvoiceCredited) },
	TypeCreditNoteIssued:           func() any { return new(CreditNoteIssued) },
	TypeInvoiceMarkedUncollectible: func() any { return new(InvoiceMarkedUncollectible) },
	TypeInvoiceOverdue:             func() any { return new(InvoiceOverdue) },
	TypeInvoiceUpdated:             func() any { return new(InvoiceUpdated) },
}

// Types returns every event type this package decodes.
func Types() []string {
	types := make([]string, 0, len(dataTypes))
	for t := range dataTypes {
		types = append(types, t)
	}
	return types
}
