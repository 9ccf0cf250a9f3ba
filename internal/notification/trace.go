package notification

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentation names the tracer of the notification context's spans.
const instrumentation = "github.com/invoicing-dev/invoicing/internal/notification"

// StartSpan starts a span named name with tp, in the trace ev carries (a
// child of its TraceParent), or in a trace of its own if it carries none.
// With tp nil (tracing off) it starts nothing: it returns ctx and a span
// that does nothing.
func StartSpan(ctx context.Context, tp trace.TracerProvider, name string, ev Event, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if tp == nil {
		return ctx, noop.Span{}
	}
	if ev.TraceParent != "" {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": ev.TraceParent, "tracestate": ev.TraceState})
	}
	return tp.Tracer(instrumentation).Start(ctx, name, opts...)
}

// EndSpan records err on span, if not nil, and ends it.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
