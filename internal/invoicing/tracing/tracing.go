// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// variables and decorates the ports whose work a trace should show: the unit
// of work's database transaction (Invoices) and the relay's publish of each
// event (Publisher), in the trace of the request that committed the event.
//
// Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: the provider is then OTel's
// no-op one, and main leaves the ports undecorated, so tracing costs nothing.
// With it off, a request's W3C traceparent still reaches the events it
// causes: the no-op tracer hands on the caller's span context.
package tracing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentation names the tracer of this package's spans.
const instrumentation = "github.com/invoicing-dev/invoicing/internal/invoicing/tracing"

// Config says whether and where spans are exported.
type Config struct {
	// Endpoint is the OTLP/HTTP endpoint spans go to:
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT.
	// Empty: tracing is off.
	Endpoint string
	// Exporter, if set, receives every span synchronously as it ends,
	// instead of OTLP (tests: tracetest.NewInMemoryExporter).
	Exporter sdktrace.SpanExporter
	// ServiceName is the spans' service.name unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES names one. Empty: DefaultServiceName.
	ServiceName string
}

// DefaultServiceName is the service.name of the spans of a Config that
// names none.
const DefaultServiceName = "invoicing"

// Provider is the service's TracerProvider: the SDK's when tracing is on,
// else OTel's no-op one.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider
}

// New returns the provider cfg asks for. Export errors (a collector down)
// are logged to logger as warnings; spans are then lost, requests are not
// affected. It returns an error if the exporter cannot be created.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Provider, error) {
	if cfg.Endpoint == "" && cfg.Exporter == nil {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	var export sdktrace.TracerProviderOption
	if cfg.Exporter != nil {
		export = sdktrace.WithSyncer(cfg.Exporter)
	} else {
		// The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers,
		// timeout, compression, certificates) itself.
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
		}
		export = sdktrace.WithBatcher(exp)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default
	// name: later detectors win.
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(cmp.Or(cfg.ServiceName, DefaultServiceName))),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("tracing: spans not exported", "err", err)
	}))
	sdk := sdktrace.NewTracerProvider(export, sdktrace.WithResource(res))
	return &Provider{TracerProvider: sdk, sdk: sdk}, nil
}

// Start is New, logging where the spans go when tracing is on. Stop the
// provider once the command's work is done.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Provider, error) {
	p, err := New(ctx, cfg, logger)
	if err == nil && p.Enabled() {
		logger.Info("tracing on", "endpoint", cfg.Endpoint)
	}
	return p, err
}

// flushTimeout bounds the export of the spans still buffered when a command
// stops.
const flushTimeout = 5 * time.Second

// Stop exports the spans still buffered, within a few seconds even after
// ctx ended, and logs a failure: a command's outcome does not depend on its
// spans.
func (p *Provider) Stop(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		logger.Warn("tracing: spans lost at shutdown", "err", err)
	}
}

// Enabled reports whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p.sdk != nil }

// Shutdown exports the spans still buffered and stops the exporter, within
// ctx. It returns the exporter's error, if any; with tracing off, nil.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// recordError marks span as failed with err, if err is not nil.
func recordError(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}
