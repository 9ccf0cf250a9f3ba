package notifypg_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// tracedEvent returns a paid event of tenant acme carrying the W3C trace
// context of the request that caused it, as the relay publishes it.
func tracedEvent(t *testing.T, traceparent, tracestate string) notification.Event {
	t.Helper()
	raw := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"/invoicing","type":%q,"subject":"inv_1","time":%q,"tenantid":"acme","traceparent":%q,"tracestate":%q,"datacontenttype":"application/json","data":{"invoice_id":"inv_1","amount_paid":1190}}`,
		uuid.Must(uuid.NewV7()).String(), notification.InvoicePaid, time.Now().UTC().Format(time.RFC3339Nano), traceparent, tracestate)
	ev, err := notification.DecodeEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// The request that caused the event, as its trace context.
const (
	eventTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	eventTraceParent = "00-" + eventTraceID + "-00f067aa0ba902b7-01"
	eventTraceState  = "vendor=opaque"
)

// TestWebhookCarriesTraceContext: the POST carries the W3C traceparent
// header, so that a receiver's trace joins the event's: with tracing on,
// its parent is the delivery attempt's span (in the event's trace).
func TestWebhookCarriesTraceContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := newHarnessOf(t, notifypg.QueueConfig{Tracer: tp})
	rcv := newReceiver(t)
	h.register(t, "acme", rcv.URL, "*")
	h.publish(t, tracedEvent(t, eventTraceParent, eventTraceState))
	waitFor(t, "the delivery", func() bool { return len(rcv.received()) == 1 })

	var attempt tracetest.SpanStub
	waitFor(t, "the attempt's span", func() bool {
		for _, s := range exp.GetSpans() {
			if s.Name == "webhook "+notification.InvoicePaid {
				attempt = s
				return true
			}
		}
		return false
	})
	sc := attempt.SpanContext
	if got := sc.TraceID().String(); got != eventTraceID {
		t.Errorf("the attempt's span is in trace %s, want the event's %s", got, eventTraceID)
	}
	hdr := rcv.received()[0].header
	if got, want := hdr.Get("traceparent"), "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01"; got != want {
		t.Errorf("traceparent %q, want the attempt span's %q", got, want)
	}
	if got := hdr.Get("tracestate"); got != eventTraceState {
		t.Errorf("tracestate %q, want the event's %q", got, eventTraceState)
	}
}

// TestWebhookCarriesTheEventsTraceContextWithTracingOff: without a tracer
// the POST carries the event's own trace context, so that the receiver
// still joins the trace of the request that caused the event.
func TestWebhookCarriesTheEventsTraceContextWithTracingOff(t *testing.T) {
	h := newHarness(t, notifypg.WebhookConfig{})
	rcv := newReceiver(t)
	h.register(t, "acme", rcv.URL, "*")
	h.publish(t, tracedEvent(t, eventTraceParent, eventTraceState))
	waitFor(t, "the delivery", func() bool { return len(rcv.received()) == 1 })
	hdr := rcv.received()[0].header
	if got := hdr.Get("traceparent"); got != eventTraceParent {
		t.Errorf("traceparent %q, want the event's %q", got, eventTraceParent)
	}
	if got := hdr.Get("tracestate"); got != eventTraceState {
		t.Errorf("tracestate %q, want the event's %q", got, eventTraceState)
	}
}
