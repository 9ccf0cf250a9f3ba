package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// publisher is relay.Publisher with a span per message published.
type publisher struct {
	relay.Publisher // Prepare and Reconnected pass through untraced
	tracer          trace.Tracer
}

var _ relay.Publisher = publisher{}

// Publisher returns pub with a producer span around the publish of each
// message, in the trace of the request that committed its event: the span's
// parent is the message's TraceParent and TraceState, stored with the event
// in the outbox. A message without one gets a trace of its own. The errors
// are pub's, unchanged (and recorded on the spans).
func Publisher(pub relay.Publisher, tp trace.TracerProvider) relay.Publisher {
	return publisher{Publisher: pub, tracer: tp.Tracer(instrumentation)}
}

// Publish implements relay.Publisher.Publish: every message's span starts
// before the batch is sent and ends once the broker answered it.
func (p publisher) Publish(ctx context.Context, msgs []relay.Message) []error {
	spans := make([]trace.Span, len(msgs))
	for i, m := range msgs {
		_, spans[i] = p.tracer.Start(Parent(ctx, m.TraceParent, m.TraceState), "publish "+m.Subject,
			trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(semconv.MessagingSystemKey.String("nats"), semconv.MessagingOperationTypeSend,
				semconv.MessagingDestinationName(m.Subject), semconv.MessagingMessageID(m.ID),
				attribute.String("correlation_id", m.CorrelationID)))
	}
	errs := p.Publisher.Publish(ctx, msgs)
	for i, span := range spans {
		if i < len(errs) {
			recordError(span, errs[i])
		}
		span.End()
	}
	return errs
}

// Parent returns ctx carrying the remote span context of a W3C traceparent
// and tracestate, as stored with an event, for the spans started from it;
// ctx as it is if traceParent is empty or invalid.
func Parent(ctx context.Context, traceParent, traceState string) context.Context {
	if traceParent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceParent, "tracestate": traceState})
}
