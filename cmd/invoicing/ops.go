package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
)

// instruments holds the process's Prometheus registry, its own (nothing is
// registered globally), and the instruments components record to.
type instruments struct {
	registry *prometheus.Registry
	http     *metrics.HTTP
	relay    *metrics.Relay
}

// newMetrics registers the Go runtime, process, database pool, outbox, HTTP
// and relay metrics in a new registry. It fails only on a name registered
// twice, a programming error.
func newMetrics(pool *pgxpool.Pool) (*instruments, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewPoolCollector(pool),
		metrics.NewOutboxCollector(invoicingpg.NewOutbox(pool)),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	h, err := metrics.NewHTTP(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	r, err := metrics.NewRelay(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &instruments{registry: reg, http: h, relay: r}, nil
}

// handler serves the registry in the Prometheus text format. A collector
// that fails (the outbox query) is logged and left out; the rest is served.
func (m *instruments) handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry, // counts its own errors: promhttp_metric_handler_errors_total
	})
}

// httpConfig returns the HTTP handler's configuration for the operational
// routes, the same in serve and relay: checks for GET /readyz, requests
// recorded in m, the registry at GET /metrics.
func (m *instruments) httpConfig(logger *slog.Logger, checks []invoicinghttp.Check) invoicinghttp.Config {
	return invoicinghttp.Config{Logger: logger, Checks: checks, Metrics: m.http, MetricsHandler: m.handler(logger)}
}
