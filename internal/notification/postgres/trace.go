package postgres

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
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
