package main

import (
	"log/slog"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
)

// opsConfig returns the HTTP handler's configuration for the operational
// routes, the same in every process: checks for GET /readyz, requests
// recorded in m, its registry at GET /metrics.
func opsConfig(m *metrics.Registry, logger *slog.Logger, checks []invoicinghttp.Check) invoicinghttp.Config {
	return invoicinghttp.Config{Logger: logger, Checks: checks, Metrics: m.HTTP, MetricsHandler: m.Handler(logger)}
}
