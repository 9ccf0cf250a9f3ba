package main

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// notifyServiceName is the service.name of the spans of `notify` (unless
// OTEL_SERVICE_NAME says otherwise): its consumers and workers run apart
// from serve's requests, and a trace should show which process did what.
// serve and relay, and notify's work inside serve, are "invoicing".
const notifyServiceName = "invoicing-notify"

// startTracing returns the tracer provider the OTEL_* variables ask for (a
// no-op one when OTEL_EXPORTER_OTLP_ENDPOINT is unset), or the test's
// exporter's, its spans from service. Stop it once the command's work is
// done. It returns an error if the exporter cannot be created.
func startTracing(ctx context.Context, cfg config, logger *slog.Logger, service string) (*tracing.Provider, error) {
	tc := cfg.Tracing.Config()
	tc.Exporter, tc.ServiceName = cfg.traceExporter, service
	return tracing.Start(ctx, tc, logger)
}

// notifyTracer returns tp when tracing is on, else nil: the notification
// context then starts no span at all.
func notifyTracer(tp *tracing.Provider) trace.TracerProvider {
	if !tp.Enabled() {
		return nil
	}
	return tp
}
