// Package invoicingsvc wires the invoicing context into something a process
// runs: the use cases on the PostgreSQL repositories, the HTTP API, the
// outbox relay publishing to NATS, the overdue job and the readiness checks,
// from the pool, listener, logger, tracer and instruments main gives it; and
// the operator commands on a pool of their own (Admin).
package invoicingsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// Config is what the invoicing context runs with.
type Config struct {
	// DatabaseURL is the PostgreSQL URL of the invoicing schema, which
	// OpenDatabase and OpenAdmin connect to.
	DatabaseURL string
	// MaxConns is the size of OpenDatabase's pool.
	MaxConns int
	// API serves the HTTP API with the operational endpoints. False: the
	// operational endpoints alone, for a process that runs the relay only.
	API bool
	// Relay runs the outbox relay (always without API).
	Relay bool
	// Schema is the schema version this binary embeds, which readiness
	// keeps checking the database against.
	Schema uint
	// NATSURL is the NATS server (or cluster) the relay publishes to.
	// Required with Relay.
	NATSURL string
	// Stream configures the stream the relay publishes to.
	Stream invoicingnats.StreamConfig
	// RelayConfig configures the relay; its Metrics and Commits are set
	// by New.
	RelayConfig relay.Config
	// APIKeyCacheTTL is how long a valid API key's tenant is remembered;
	// 0: not at all.
	APIKeyCacheTTL time.Duration
	// OverdueInterval is how often the API process runs the overdue job;
	// 0: never.
	OverdueInterval time.Duration
	// OverdueBatchSize is how many invoices the overdue job reads at once.
	// Default 100.
	OverdueBatchSize int
	// ShutdownTimeout bounds, once Run's ctx is cancelled, the requests in
	// flight and then the relay's drain, together. Default 15s.
	ShutdownTimeout time.Duration
}

func (c *Config) setDefaults() {
	if !c.API {
		c.Relay = true
	}
	if c.OverdueBatchSize == 0 {
		c.OverdueBatchSize = 100
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 15 * time.Second
	}
}

// Validate returns an error naming the first required setting missing.
func (c Config) Validate() error {
	if c.Relay && c.NATSURL == "" {
		return errors.New("invoicingsvc: NATSURL is required to run the relay")
	}
	return nil
}

// Deps are the process's parts the service uses.
type Deps struct {
	// Pool is the database, at the schema version Config.Schema.
	Pool *pgxpool.Pool
	// Listener is where the HTTP server serves, bound before anything
	// connected so that a taken port fails start-up at once.
	Listener net.Listener
	// Logger receives the service's logs.
	Logger *slog.Logger
	// Tracer records spans of requests, units of work and publications.
	// Required: with tracing off, tracing.New's no-op provider.
	Tracer *tracing.Provider
	// HTTP is the handler's configuration without its checks and tracer:
	// the logger, the request observer and GET /metrics.
	HTTP invoicinghttp.Config
	// RelayMetrics records the relay's work. Nil: nowhere.
	RelayMetrics relay.Metrics
}

// Service is the invoicing context of a process.
type Service struct {
	cfg Config
	ln  net.Listener
	log *slog.Logger
	rp  *relayRunner       // nil without relay
	api *invoicinghttp.API // nil without API
	srv *http.Server       // the API's; nil without API
	ops http.Handler       // the operational endpoints, without API
	job *overdueJob        // nil unless the API runs it
}

// New builds the service without starting anything. With Relay, it
// connects to NATS: an unreachable server is not an error (the connection
// keeps retrying and events wait in the outbox), one whose max_payload is
// below relay.MaxEventBytes is. It returns an error if the configuration is
// invalid or a part cannot be built; Close undoes what it built.
func New(ctx context.Context, deps Deps, cfg Config) (_ *Service, err error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, ln: deps.Listener, log: deps.Logger}
	pool, logger, tp := deps.Pool, deps.Logger, deps.Tracer
	var pub *invoicingnats.Publisher
	if cfg.Relay {
		if s.rp, err = newRelay(ctx, cfg, deps, logger); err != nil {
			return nil, err
		}
		pub = s.rp.pub
	}
	hcfg := deps.HTTP
	hcfg.Checks = readinessChecks(pool, cfg.Schema, pub, cfg.API)
	if !cfg.API {
		s.ops = invoicinghttp.NewOpsHandler(hcfg)
		return s, nil
	}
	hcfg.Tracer = tp
	// Every commit wakes the relay leader, in this process at once and in
	// any other through a notice sent after the commit (see
	// invoicingpg.OutboxNotifier).
	var opts []invoicingpg.InvoicesOption
	if s.rp != nil {
		rp := s.rp
		opts = append(opts, invoicingpg.WithAfterCommit(func() { rp.Wake(); rp.commits.Notify() }))
	} else {
		opts = append(opts, invoicingpg.WithAfterCommit(invoicingpg.NewOutboxNotifier(pool, 0, logger).Notify))
	}
	var keys app.APIKeys = invoicingpg.NewAPIKeys(pool)
	if cfg.APIKeyCacheTTL > 0 {
		keys = app.NewCachedAPIKeys(keys, cfg.APIKeyCacheTTL, app.SystemClock{})
	}
	invoices := invoicingpg.NewInvoices(pool, opts...)
	traced := tracedInvoices(invoices, tp)
	// Changes are traced; the reads go to the repository as is.
	store := struct {
		app.Invoices
		app.InvoiceReads
	}{traced, invoices}
	a := app.New(store, keys, invoicingpg.NewEvents(pool), app.SystemClock{}).
		WithCreditNotes(invoicingpg.NewCreditNotes(pool))
	s.api = invoicinghttp.NewAPI(a, hcfg)
	s.srv = invoicinghttp.NewServer(s.api, logger)
	if cfg.OverdueInterval > 0 {
		s.job = newOverdueJob(invoicingpg.NewJobs(pool), traced, invoices, cfg.OverdueBatchSize, logger)
	}
	return s, nil
}

// API returns the HTTP API, for another context's routes to be added to it
// before Run; nil without API.
func (s *Service) API() *invoicinghttp.API { return s.api }

// Close closes the relay and its NATS connection. Call it after Run
// returned. It never fails.
func (s *Service) Close() error {
	if s.rp != nil {
		s.rp.close()
	}
	return nil
}

// Run serves until ctx is cancelled (see runAPI, runRelay). It returns an
// error if the server fails or the relay stops for a reason it cannot go
// on with, or if the shutdown did not finish within the ShutdownTimeout.
func (s *Service) Run(ctx context.Context) error {
	if !s.cfg.API {
		return s.runRelay(ctx)
	}
	return s.runAPI(ctx)
}

// runRelay runs the relay alone, until ctx is cancelled, then drains it
// within the ShutdownTimeout, serving the operational endpoints until the
// relay has stopped, so probes still answer while it drains.
func (s *Service) runRelay(ctx context.Context) error {
	return invoicinghttp.ServeWhile(ctx, s.ln, s.log, s.ops,
		func() error { return s.rp.runUntil(ctx, s.cfg.ShutdownTimeout, s.log) }, "api", false)
}

// runAPI runs the HTTP API with the relay and the overdue job until ctx is
// cancelled. Then it shuts down in order, within the ShutdownTimeout
// overall:
//
//  1. the server closes its listener (new connections are refused) and
//     waits for the requests in flight to finish;
//  2. only then the relay drains: it publishes what is pending, including
//     the events of those last requests, marks it published and releases
//     its leadership.
//
// A relay that stops because the broker is misconfigured does not stop the
// API (relay.Run's error otherwise does); requests still running at the
// deadline are cut off, their transactions roll back or commit whole.
func (s *Service) runAPI(ctx context.Context) error {
	s.log.Info("listening", "addr", s.ln.Addr().String(), "relay", s.cfg.Relay)
	g, gctx := errgroup.WithContext(ctx)
	if rp := s.rp; rp != nil {
		// The relay outlives the server, to publish the events of its last
		// requests: shutdown stops it. A relay that stops before because
		// the broker is misconfigured does not stop the API, as a broker
		// outage does not: payments go on into the outbox, the error is
		// logged and the nats check warns, and another replica's relay
		// tries the lead. Any other reason to stop stops serve.
		rp.start(ctx)
		g.Go(func() error {
			select {
			case <-rp.finished:
				switch err := rp.result(); {
				case errors.Is(err, relay.ErrMisconfigured):
					s.log.Error("relay stopped: the broker refuses the stream as configured; the API goes on, events wait in the outbox until the configuration is fixed and serve restarted", "err", err)
				case err != nil:
					return err // relay.Run's, which names the relay
				}
			case <-gctx.Done():
			}
			return nil
		})
	}
	g.Go(func() error {
		if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	if s.job != nil {
		// Stops with the server: a run cut off keeps what it committed, and
		// the next run, here or in another replica, does the rest.
		g.Go(func() error { s.job.runEvery(gctx, s.cfg.OverdueInterval); return nil })
	}
	g.Go(func() error {
		<-gctx.Done()
		return s.shutdown(ctx)
	})
	return g.Wait()
}

// shutdown runs steps 1 and 2 of runAPI's shutdown under one deadline,
// the ShutdownTimeout from now. It returns an error if requests were still
// in flight at the deadline.
func (s *Service) shutdown(ctx context.Context) error {
	start, timeout := time.Now(), s.cfg.ShutdownTimeout
	s.log.Info("shutting down", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var errs []error
	if err := s.srv.Shutdown(sctx); err != nil {
		// Cut off what still runs: closing the connections cancels the
		// requests' contexts, so their database work ends and the pool can
		// close.
		errs = append(errs, fmt.Errorf("http shutdown: requests still running after SHUTDOWN_TIMEOUT: %w", err), s.srv.Close())
	}
	s.log.Info("http server stopped", "took", time.Since(start).String())
	if s.rp != nil {
		// Whatever is left of the deadline, at least a moment to mark
		// what the broker acknowledged.
		left := max(time.Until(start.Add(timeout)), 100*time.Millisecond)
		errs = append(errs, s.rp.stop(left, s.log))
	}
	return errors.Join(errs...)
}
