package notifynats

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// processSpans starts one consumer span per event, "process <type>", each
// in the trace its event carries: a batch is one inbox transaction, but its
// events come from different requests. It returns the function that ends
// them, recording the batch's error. With no Tracer it does nothing.
func (c *Consumer) processSpans(ctx context.Context, evs []notification.Event) (end func(error)) {
	if c.cfg.Tracer == nil {
		return func(error) {}
	}
	spans := make([]trace.Span, len(evs))
	for i, ev := range evs {
		_, spans[i] = notification.StartSpan(ctx, c.cfg.Tracer, "process "+ev.Type, ev,
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.operation.type", "process"),
				attribute.String("messaging.destination.name", ev.Type), attribute.String("messaging.message.id", ev.ID),
				attribute.String("messaging.consumer.group.name", c.cfg.Durable), attribute.Int("messaging.batch.message_count", len(evs))))
	}
	return func(err error) {
		for _, span := range spans {
			notification.EndSpan(span, err)
		}
	}
}
