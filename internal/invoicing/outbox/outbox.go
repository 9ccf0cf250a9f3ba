// Package outbox is a committed domain event as the outbox keeps it, with
// the request that caused it: what the repository writes in the transaction
// that changes an aggregate, what the relay publishes and what the event
// feed serves. It holds data, and the one encoding of an event's data that
// every store writes (MarshalData); the stores that read and write records
// are the adapters'.
package outbox

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// EventRecord is a committed domain event as the outbox keeps it.
type EventRecord struct {
	Sequence int64 // the outbox's global sequence
	ID       kernel.EventID
	Tenant   kernel.TenantID
	// AggregateID is the aggregate the event belongs to: the invoice of an
	// invoice.* event, the credit note of a credit_note.* event (whose data
	// names the invoice).
	AggregateID uuid.UUID
	Version     int64  // the aggregate's version after the event
	Type        string // e.g. "invoice.paid"
	Payload     []byte // the event's JSON data (see MarshalData)
	OccurredAt  time.Time
	Trace       Trace // the request that caused it, as far as known
}

// Trace identifies the request that caused a change, so the events the change
// raises can be tied back to it: the repository stores it with every event it
// writes to the outbox, and the relay and the event feed put it into the
// CloudEvent (extensions correlationid, traceparent, tracestate) and the NATS
// message headers. Every field is optional.
type Trace struct {
	// CorrelationID is the request id (X-Request-Id, given or generated).
	CorrelationID string
	// TraceParent is the request's W3C traceparent header, already validated.
	TraceParent string
	// TraceState is the request's W3C tracestate header; empty unless
	// TraceParent is set.
	TraceState string
}

// MarshalData returns the JSON of an event's data as the outbox stores it:
// compact, with <, > and & as they are.
// encoding/json would escape them (\u003c), inflating text up to six times
// for no JSON reader's benefit.
func MarshalData(event any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(event); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
