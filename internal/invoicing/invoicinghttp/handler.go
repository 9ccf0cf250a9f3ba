// Package invoicinghttp is the service's JSON API over HTTP: routing, authentication,
// request decoding, response encoding and the mapping of errors to RFC 9457
// problem details. Handlers only translate; every rule lives in the use cases
// (package app) and the domain.
package invoicinghttp

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// DefaultRequestTimeout is Config.RequestTimeout when it is 0: the write
// timeout of `invoicing serve`, past which an answer can no longer be sent.
const DefaultRequestTimeout = 30 * time.Second

// Config configures the handler returned by NewHandler.
type Config struct {
	// Logger receives one access line per request and every internal error,
	// each with its request id. Nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 413. Zero or less
	// means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestTimeout bounds the work of each /v1 request: its context is
	// cancelled then, so its queries stop rather than run on for an answer
	// that can no longer be written. Zero or less means DefaultRequestTimeout.
	RequestTimeout time.Duration

	// Checks are the conditions GET /readyz verifies; none: always ready.
	Checks []Check
	// CheckTimeout bounds all checks of one GET /readyz. Zero or less means
	// DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Metrics is told of every request served. Nil: none.
	Metrics RequestObserver
	// MetricsHandler serves GET /metrics (Prometheus). Nil: no such route.
	// The route needs no API key: keep the port off the public internet, or
	// block /metrics at the edge.
	MetricsHandler http.Handler
	// Tracer starts a span per request (probes and scrapes aside). Nil:
	// OTel's no-op provider, which only hands the caller's W3C trace
	// context on to the events the request causes.
	Tracer trace.TracerProvider
}

// RequestObserver records served requests, e.g. as Prometheus metrics.
type RequestObserver interface {
	// ObserveRequest records one request: its method, its route pattern
	// ("/v1/invoices/{id}", or "unmatched" if no route matched), the
	// response status and how long the handler took. It must not block.
	ObserveRequest(method, route string, status int, d time.Duration)
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.Metrics == nil {
		c.Metrics = noObserver{}
	}
	if c.Tracer == nil {
		c.Tracer = noop.NewTracerProvider()
	}
}

// noObserver is the RequestObserver of a Config without one.
type noObserver struct{}

func (noObserver) ObserveRequest(string, string, int, time.Duration) {}

// server holds what the handlers need; its methods are the handlers.
type server struct {
	app     *app.App
	maxBody int64
}

// NewHandler returns the API: a chi router serving the /v1 routes and the
// operational ones, /healthz, /readyz and /metrics (see routes.go), behind
// request-id, access-log, panic-recovery and (for /v1) API-key
// authentication middleware. It never fails; errors surface per request as
// problem+json responses.
func NewHandler(a *app.App, cfg Config) http.Handler {
	return NewAPI(a, cfg)
}

// API is the handler of NewHandler, open to another context's routes:
// they go on V1, behind the same middleware, and answer through Host.
type API struct {
	http.Handler
	v1   chi.Router
	host *Host
}

// NewAPI returns the API as NewHandler does, with its /v1 router and Host
// for another context's routes (main adds the notification context's
// webhook API), which must be added before it serves.
func NewAPI(a *app.App, cfg Config) *API {
	cfg.setDefaults()
	return routes(&server{app: a, maxBody: cfg.MaxBodyBytes}, cfg)
}

// V1 returns the router of /v1, where another context adds its routes.
func (a *API) V1() chi.Router { return a.v1 }

// Host returns what those routes share with this API: the authentication
// and the answers.
func (a *API) Host() *Host { return a.host }

// NewOpsHandler returns only the operational routes, /healthz, /readyz and
// /metrics, with the same middleware as NewHandler: for a process that
// serves no API, such as `invoicing relay`. Anything else is a 404.
func NewOpsHandler(cfg Config) http.Handler {
	cfg.setDefaults()
	r := newRouter(cfg)
	opsRoutes(r, cfg)
	return r
}
