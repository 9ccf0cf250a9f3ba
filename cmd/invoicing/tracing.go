package main

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// tracingFlushTimeout bounds the export of the spans still buffered when a
// command stops.
const tracingFlushTimeout = 5 * time.Second

// notifyServiceName is the service.name of the spans of `notify` (unless
// OTEL_SERVICE_NAME says otherwise): its consumers and workers run apart
// from serve's requests, and a trace should show which process did what.
// serve and relay, and notify's work inside serve, are "invoicing".
const notifyServiceName = "invoicing-notify"

// startTracing returns the tracer provider the OTEL_* variables ask for (a
// no-op one when OTEL_EXPORTER_OTLP_ENDPOINT is unset), or the test's
// exporter's, its spans from service (tracing.DefaultServiceName if
// empty). Stop it with stopTracing once the command's work is done. It
// returns an error if the exporter cannot be created.
func startTracing(ctx context.Context, cfg config, logger *slog.Logger, service string) (*tracing.Provider, error) {
	tc := cfg.tracing()
	tc.Exporter = cfg.traceExporter
	tc.ServiceName = service
	tp, err := tracing.New(ctx, tc, logger)
	if err == nil && tp.Enabled() {
		logger.Info("tracing on", "endpoint", tc.Endpoint)
	}
	return tp, err
}

// stopTracing exports the spans still buffered, within tracingFlushTimeout,
// and logs a failure: the command's own outcome does not depend on it.
func stopTracing(ctx context.Context, tp *tracing.Provider, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tracingFlushTimeout)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		logger.Warn("tracing: spans lost at shutdown", "err", err)
	}
}

// notifyTracer returns tp when tracing is on, else nil: the notification
// context then starts no span at all.
func notifyTracer(tp *tracing.Provider) trace.TracerProvider {
	if !tp.Enabled() {
		return nil
	}
	return tp
}
