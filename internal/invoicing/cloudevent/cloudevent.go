// Package cloudevent is the CloudEvents 1.0 envelope of the events this
// service publishes: the relay sends it to NATS, and the HTTP event feed
// serves the very same bytes. Both import it; neither imports the other.
package cloudevent

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"

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
// compacted, each string in its shortest form: it escapes no HTML (<, >, &
// stay as they are, not \u003c) nor U+2028 and U+2029, which would inflate
// text up to six times for no JSON reader's benefit, whether the payload
// has them escaped (encoding/json always escapes U+2028) or not. It returns
// an error only if the payload is not valid JSON.
//
// It writes the members of Event in their order, with jsontext quoting the
// strings and compacting the data: the relay encodes every event it
// publishes, and encoding/json's reflection and its compaction of a
// RawMessage cost more than the rest of the envelope together.
// TestEncodeIsEventsJSON holds it to what encoding/json makes of Event.
func Encode(rec outbox.EventRecord) ([]byte, error) {
	t := rec.OccurredAt.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("cloudevent: encode event %s (sequence %d): time %v outside RFC 3339", rec.ID, rec.Sequence, t)
	}
	b := make([]byte, 0, envelopeSize+len(rec.Payload))
	b = append(b, `{"specversion":"`+SpecVersion+`","id":`...)
	b = appendString(b, rec.ID.String())
	b = append(b, `,"source":"`+Source+`","type":`...)
	b = appendString(b, Subject(rec.Type))
	b = append(b, `,"subject":`...)
	b = appendString(b, rec.AggregateID.String())
	b = append(b, `,"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","datacontenttype":"application/json","tenantid":`...)
	b = appendString(b, rec.Tenant.String())
	b = append(b, `,"sequence":"`...)
	b = strconv.AppendInt(b, rec.Sequence, 10)
	b = append(b, `","invoiceversion":`...)
	b = strconv.AppendInt(b, rec.Version, 10)
	b = appendMember(b, "correlationid", rec.Trace.CorrelationID)
	b = appendMember(b, "traceparent", rec.Trace.TraceParent)
	b = appendMember(b, "tracestate", rec.Trace.TraceState)
	b = append(b, `,"data":`...)
	data := jsontext.Value(append(b[len(b):], rec.Payload...))
	if err := data.Compact(jsontext.PreserveRawStrings(false)); err != nil {
		return nil, fmt.Errorf("cloudevent: encode event %s (sequence %d): %w", rec.ID, rec.Sequence, err)
	}
	return append(append(b, data...), '}'), nil
}

// envelopeSize is room for an envelope's members besides its data, trace
// context included.
const envelopeSize = 512

// appendMember appends the member ,"name":"value" to b, none if value is
// empty (the omitempty of Event's optional extensions).
func appendMember(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":`...)
	return appendString(b, value)
}

// appendString appends s to b as a JSON string. Invalid UTF-8 becomes
// U+FFFD (encoding/json replaces it too, escaped as \ufffd); that is the
// only error AppendQuote reports, and the text is still written.
func appendString(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}
