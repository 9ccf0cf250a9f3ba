package app

import (
	"context"

	"github.com/invoicing-dev/invoicing/internal/invoicing/outbox"
)

type traceKey struct{}

// WithTrace returns ctx carrying t for the changes made with it: the
// repository stores t with every event it writes to the outbox.
func WithTrace(ctx context.Context, t outbox.Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the outbox.Trace ctx carries, or the zero Trace.
func TraceFrom(ctx context.Context) outbox.Trace {
	t, _ := ctx.Value(traceKey{}).(outbox.Trace)
	return t
}
