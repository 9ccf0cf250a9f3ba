// Package cloudevent is the CloudEvents 1.0 envelope of the events this
// service publishes: the relay sends it to NATS, and the HTTP event feed
// serves the very same bytes. Both import it; neither imports the other.
package cloudevent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
)

// CloudEvents constants of every envelope this service emits.
const (
	SpecVersion = "1.0"
	Source      = "/invoicing"
	// SubjectPrefix prefixes an event type to make its NATS subject and its
	// CloudEvent type: "invoicing.invoice.paid".
	SubjectPrefix = "invoicing."
	// ContentType is the media type of a structured-mode CloudEvent in JSON,
	// sent as the message's Content-Type header.
	ContentType = "application/cloudevents+json"
)

// Event is the CloudEvents 1.0 structured JSON envelope of a published
// event. Its JSON is a public contract (api/asyncapi.yaml): add fields, never
// rename or remove one.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`      // the event id, also Nats-Msg-Id
	Source          string    `json:"source"`  // always "/invoicing"
	Type            string    `json:"type"`    // "invoicing." + event type = the subject
	Subject         string    `json:"subject"` // the aggregate's id: the invoice, or the credit note
	Time            time.Time `json:"time"`    // when it happened, UTC
	DataContentType string    `json:"datacontenttype"`
	TenantID        string    `json:"tenantid"` // extension: the owning tenant
	// Extension: the outbox sequence, as a decimal string ("1042"). The
	// CloudEvents sequence extension defines it as a String, and an Integer
	// attribute is 32-bit signed: from 2^31 on, a conforming consumer (the
	// official Go SDK) rejects a JSON number.
	Sequence       int64 `json:"sequence,string"`
	InvoiceVersion int64 `json:"invoiceversion"` // extension: the aggregate's version after the event
	// Extensions naming the request that caused the event, omitted when
	// unknown: its request id, and its W3C trace context (the CloudEvents
	// distributed-tracing extension).
	CorrelationID string          `json:"correlationid,omitempty"`
	TraceParent   string          `json:"traceparent,omitempty"`
	TraceState    string          `json:"tracestate,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// Subject returns the NATS subject (and CloudEvent type) of an event type:
// "invoice.paid" → "invoicing.invoice.paid".
func Subject(eventType string) string { return SubjectPrefix + eventType }

// Encode returns the JSON CloudEvent of rec, its payload as data,
// compacted. It escapes no HTML (<, >, & stay as they are, not \u003c),
// which would inflate text up to six times for no JSON reader's benefit. It
// returns an error only if the payload is not valid JSON.
func Encode(rec outbox.EventRecord) ([]byte, error) {
	b, err := marshal(Event{
		SpecVersion:     SpecVersion,
		ID:              rec.ID.String(),
		Source:          Source,
		Type:            Subject(rec.Type),
		Subject:         rec.AggregateID.String(),
		Time:            rec.OccurredAt.UTC(),
		DataContentType: "application/json",
		TenantID:        rec.Tenant.String(),
		Sequence:        rec.Sequence,
		InvoiceVersion:  rec.Version,
		CorrelationID:   rec.Trace.CorrelationID,
		TraceParent:     rec.Trace.TraceParent,
		TraceState:      rec.Trace.TraceState,
		Data:            rec.Payload,
	})
	if err != nil {
		return nil, fmt.Errorf("cloudevent: encode event %s (sequence %d): %w", rec.ID, rec.Sequence, err)
	}
	return b, nil
}

// marshal returns v's JSON like json.Marshal, but without HTML escaping,
// also inside a json.RawMessage.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
