package invoicinghttp

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the tracer of the request spans.
const instrumentation = "github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"

// maxTraceState bounds the tracestate kept; W3C Trace Context asks vendors to
// propagate at least 512 characters.
const maxTraceState = 512

// traced starts each request's server span, a child of the caller's W3C
// trace context (traceparent, tracestate) if it sent a valid one, and names
// it by method and route pattern once routed ("POST
// /v1/invoices/{id}/payments"). A bad header is ignored, never an error.
// Probes and scrapes (quietRoutes) get no span of their own.
//
// With tracing off (tp a no-op provider) the "span" is the caller's context
// itself, so requestID still hands the caller's traceparent to the events;
// with it on, the request's span, so the events' trace points at it.
func traced(tp trace.TracerProvider) func(http.Handler) http.Handler {
	tracer := tp.Tracer(instrumentation)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := propagation.TraceContext{}.Extract(r.Context(), traceHeaders(r.Header))
			if quietRoutes[r.URL.Path] {
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
			if !span.IsRecording() {
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			rec := &statusRecorder{ResponseWriter: w}
			defer func() {
				// After a panic too (recoverer is inside): the span ends.
				route := routePattern(r)
				status := rec.status
				if status == 0 {
					status = http.StatusOK
				}
				span.SetName(r.Method + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route), semconv.HTTPResponseStatusCode(status))
				if status >= 500 {
					span.SetStatus(codes.Error, http.StatusText(status))
				}
				span.End()
			}()
			next.ServeHTTP(rec, r.WithContext(ctx))
		})
	}
}

// traceHeaders is the propagation carrier of a request's trace headers as
// W3C Trace Context reads them: a repeated traceparent is no traceparent;
// repeated tracestate headers are joined with commas; a tracestate over
// maxTraceState characters is dropped.
type traceHeaders http.Header

func (h traceHeaders) Get(key string) string {
	values := http.Header(h).Values(key)
	if strings.EqualFold(key, "traceparent") && len(values) != 1 {
		return ""
	}
	v := strings.Join(values, ",")
	if strings.EqualFold(key, "tracestate") && len(v) > maxTraceState {
		return ""
	}
	return v
}

func (h traceHeaders) Set(key, value string) { http.Header(h).Set(key, value) }

func (h traceHeaders) Keys() []string { return propagation.HeaderCarrier(h).Keys() }

// traceOf returns the W3C traceparent and tracestate of sc, or two empty
// strings if sc is not valid.
func traceOf(sc trace.SpanContext) (traceParent, traceState string) {
	if !sc.IsValid() {
		return "", ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String(), sc.TraceState().String()
}
