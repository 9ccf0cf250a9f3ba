package app

import "context"

// Trace identifies the request that caused a change, so the events the change
// raises can be tied back to it: the repository stores it with every event it
// writes to the outbox, and the relay and the event feed put it into the
// CloudEvent (extensions correlationid, traceparent, tracestate) and the NATS
// message headers. Every field is optional.
type Trace struct {
	// CorrelationID is the request id (X-Request-Id, given or generated).
	CorrelationID string
	// TraceParent is the request's W3C traceparent header, already validated.
	TraceParent string
	// TraceState is the request's W3C tracestate header; empty unless
	// TraceParent is set.
	TraceState string
}

type traceKey struct{}

// WithTrace returns ctx carrying t for the changes made with it.
func WithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the Trace ctx carries, or the zero Trace.
func TraceFrom(ctx context.Context) Trace {
	t, _ := ctx.Value(traceKey{}).(Trace)
	return t
}
