package relay_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/domain/invoice"
	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
	"github.com/invoicing-dev/invoicing/internal/kernel"
)

// The envelope the relay publishes, checked against api/asyncapi.yaml.
func TestCloudEventCarriesTheTraceAsExtensions(t *testing.T) {
	_, schemas := asyncAPISchemas(t)
	rec := outbox.EventRecord{
		Sequence: 1, ID: kernel.EventID(uuid.New()), Tenant: kernel.TenantID(uuid.New()), AggregateID: uuid.UUID(invoice.NewID()), Version: 1,
		Type: "invoice.voided", Payload: json.RawMessage(`{}`), OccurredAt: time.Now(),
		Trace: outbox.Trace{CorrelationID: "req-1", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "congo=t61rcWkgMzE"},
	}
	b, err := cloudevent.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"correlationid": rec.Trace.CorrelationID, "traceparent": rec.Trace.TraceParent, "tracestate": rec.Trace.TraceState} {
		if got[k] != want {
			t.Errorf("%s = %#v, want %q", k, got[k], want)
		}
	}
	if err := schemas["CloudEvent"].Value.VisitJSON(got); err != nil {
		t.Errorf("envelope with trace does not match asyncapi.yaml's CloudEvent: %v", err)
	}
}

// The official CloudEvents SDK holds an event to the specification: every
// envelope decodes and validates with it, whatever its sequence, and the
// sequence reads back as the decimal string of the outbox sequence.
