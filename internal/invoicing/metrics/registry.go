package metrics

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is a process's own Prometheus registry (nothing is registered
// globally) with the HTTP instruments every process records to, and the
// relay's in a process that runs one.
type Registry struct {
	reg   *prometheus.Registry
	HTTP  *HTTP
	Relay *Relay // nil unless WithRelay
}

// NewRegistry registers the Go runtime, process, database pool and HTTP
// metrics, and those of cs, in a new registry. It fails only on a name
// registered twice, a programming error.
func NewRegistry(pool *pgxpool.Pool, cs ...prometheus.Collector) (*Registry, error) {
	reg := prometheus.NewRegistry()
	cs = append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewPoolCollector(pool),
	}, cs...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	h, err := NewHTTP(reg)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Registry{reg: reg, HTTP: h}, nil
}

// WithRelay registers the relay's metrics, which Relay then records. It
// fails only on a name registered twice.
func (r *Registry) WithRelay() error {
	m, err := NewRelay(r.reg)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	r.Relay = m
	return nil
}

// Register adds c to the registry. It fails on a name registered twice.
func (r *Registry) Register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// Handler serves the registry in the Prometheus text format. A collector
// that fails (a count query) is logged and left out; the rest is served.
func (r *Registry) Handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      r.reg, // counts its own errors: promhttp_metric_handler_errors_total
	})
}
