package invoicinghttp

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceContext returns the W3C trace context traced reads from h, as
// requestID hands it to the events with tracing off.
func traceContext(h http.Header) (traceParent, traceState string) {
	ctx := propagation.TraceContext{}.Extract(context.Background(), traceHeaders(h))
	return traceOf(trace.SpanContextFromContext(ctx))
}

func TestTraceContextKeepsOnlyAValidTraceParent(t *testing.T) {
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name       string
		parent     []string
		state      []string
		wantParent string
		wantState  string
	}{
		{name: "valid", parent: []string{valid}, state: []string{"congo=t61rcWkgMzE"}, wantParent: valid, wantState: "congo=t61rcWkgMzE"},
		{name: "no header"},
		{name: "repeated", parent: []string{valid, valid}},
		{name: "uppercase hex", parent: []string{strings.ToUpper(valid)}},
		{name: "version ff", parent: []string{"ff" + valid[2:]}},
		{name: "zero trace id", parent: []string{"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}},
		{name: "zero parent id", parent: []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}},
		{name: "short", parent: []string{valid[:54]}},
		{name: "version 00 with more", parent: []string{valid + "-00"}},
		{name: "wrong separator", parent: []string{strings.Replace(valid, "-", "_", 1)}},
		{name: "not hex", parent: []string{"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"}},
		// Passed on in the version this service speaks, as W3C asks.
		{name: "future version with more", parent: []string{"01" + valid[2:] + "-what-comes"}, wantParent: valid},
		{name: "reserved flags", parent: []string{valid[:53] + "ff"}},
		{name: "future version glued", parent: []string{"01" + valid[2:] + "x"}},
		{name: "states joined", parent: []string{valid}, state: []string{"a=1", "b=2"}, wantParent: valid, wantState: "a=1,b=2"},
		{name: "state too long", parent: []string{valid}, state: []string{strings.Repeat("a", 513)}, wantParent: valid},
		{name: "state not ASCII", parent: []string{valid}, state: []string{"a=é"}, wantParent: valid},
		{name: "state without parent", state: []string{"a=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.parent {
				h.Add("traceparent", v)
			}
			for _, v := range tt.state {
				h.Add("tracestate", v)
			}
			parent, state := traceContext(h)
			if parent != tt.wantParent || state != tt.wantState {
				t.Errorf("traceContext = %q, %q; want %q, %q", parent, state, tt.wantParent, tt.wantState)
			}
		})
	}
}
