package notifypg

import (
	"context"
	"encoding/json"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// startSpan starts the span of an attempt at t, in the trace of the event
// its body carries (decoded only with tracing on).
func (w *webhookWorker) startSpan(ctx context.Context, t target, attempt int) (context.Context, trace.Span) {
	var ev notification.Event
	if w.q.cfg.Tracer != nil {
		ev, _ = notification.DecodeEvent(t.body) // a body it cannot decode has no trace
	}
	return notification.StartSpan(ctx, w.q.cfg.Tracer, "webhook "+ev.Type, ev,
		trace.WithAttributes(attribute.String("event.id", t.eventID), attribute.String("webhook.endpoint.id", t.endpointID),
			attribute.Int("task.attempt", attempt)))
}

// traceContext returns the W3C trace context an attempt's request carries,
// that of ctx's span (the attempt's), or with tracing off the one the
// event in body carries: the receiver's trace joins the event's either way.
// The propagator keeps only a well-formed context of the event's.
func traceContext(ctx context.Context, body []byte) (traceparent, tracestate string) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		var ev struct {
			TraceParent string `json:"traceparent"`
			TraceState  string `json:"tracestate"`
		}
		if json.Unmarshal(body, &ev) == nil && ev.TraceParent != "" {
			ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": ev.TraceParent, "tracestate": ev.TraceState})
		}
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}
