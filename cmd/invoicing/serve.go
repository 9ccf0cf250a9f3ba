package main

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
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
)

// serve runs the HTTP API and, unless RELAY_ENABLED=false, the outbox relay,
// and, if NOTIFY_ENABLED=true, the notification consumer and its workers,
// until ctx is cancelled (SIGTERM, SIGINT). Then it shuts down in order,
// within SHUTDOWN_TIMEOUT overall:
//
//  1. the server closes its listener (new connections are refused) and
//     waits for the requests in flight to finish;
//  2. only then the relay drains: it publishes what is pending, including
//     the events of those last requests, marks it published and releases
//     its leadership;
//  3. the NATS connection and the database pool close (deferred).
//
// It returns nil after a clean shutdown; an error if start-up fails, the
// server fails, the relay stops for a reason other than a misconfigured
// broker (relay.Run's error), or requests
// were still running at the deadline (they are then cut off; their
// transactions roll back or commit whole).
func serve(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("%w: serve takes no arguments", errUsage)
	}
	// "listening" is logged once requests can be answered, at Serve.
	p, err := startProcessBase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer p.close() // after the command's own parts stopped
	cfg, ln, pool, want, m, tp := p.cfg, p.ln, p.pool, p.schema, p.m, p.tp

	var (
		opts []invoicingpg.InvoicesOption
		rp   *relayProc
		pub  *invoicingnats.Publisher
	)
	if cfg.RelayEnabled {
		if rp, err = newRelay(ctx, cfg, pool, logger, m.relay, tp); err != nil {
			return err
		}
		defer rp.close()
		pub = rp.pub
	}
	// Every commit wakes the relay leader, in this process at once and in
	// any other through a notice sent after the commit (see
	// invoicingpg.OutboxNotifier).
	if rp != nil {
		opts = append(opts, invoicingpg.WithAfterCommit(func() { rp.Wake(); rp.commits.Notify() }))
	} else {
		opts = append(opts, invoicingpg.WithAfterCommit(invoicingpg.NewOutboxNotifier(pool, 0, logger).Notify))
	}

	var np *notifysvc.Service
	if cfg.NotifyEnabled {
		if np, err = newNotify(ctx, cfg, logger, true, tp); err != nil {
			return err
		}
		defer np.Close()
		// Its measurements are served here; its readiness is not: the API
		// stays in rotation while NATS or the mail server is down.
		if err := m.registry.Register(metrics.NewNotificationCollector(np)); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}

	hcfg := m.httpConfig(logger, readinessChecks(pool, want, pub, true))
	hcfg.Tracer = tp
	if cfg.WebhooksEnabled {
		wp := np
		if wp == nil {
			// The API's store only: deliveries run in `invoicing notify`.
			if wp, err = newNotify(ctx, cfg, logger, false, tp); err != nil {
				return err
			}
			defer wp.Close()
		}
		hcfg.Routes = webhookRoutes(wp)
	}

	var keys app.APIKeys = invoicingpg.NewAPIKeys(pool)
	if cfg.APIKeyCacheTTL > 0 {
		keys = app.NewCachedAPIKeys(keys, cfg.APIKeyCacheTTL, app.SystemClock{})
	}
	invoices := invoicingpg.NewInvoices(pool, opts...)
	traced := tracedInvoices(invoices, tp)
	a := app.New(traced, keys, invoicingpg.NewEvents(pool), app.SystemClock{}).
		WithCreditNotes(invoicingpg.NewCreditNotes(pool))
	srv := newHTTPServer(invoicinghttp.NewHandler(a, hcfg), logger)

	logger.Info("listening", "addr", ln.Addr().String(), "relay", cfg.RelayEnabled)
	g, gctx := errgroup.WithContext(ctx)
	if rp != nil {
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
					logger.Error("relay stopped: the broker refuses the stream as configured; the API goes on, events wait in the outbox until the configuration is fixed and serve restarted", "err", err)
				case err != nil:
					return err // relay.Run's, which names the relay
				}
			case <-gctx.Done():
			}
			return nil
		})
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	if np != nil {
		// Independent of the API and the relay: it stops with the process,
		// and its failure is logged, never a reason to stop serving.
		g.Go(func() error {
			if err := np.Run(gctx); err != nil {
				logger.Error("notification stopped; the API keeps serving", "err", err)
			}
			return nil
		})
	}
	if cfg.OverdueInterval > 0 {
		// Stops with the server: a run cut off keeps what it committed, and
		// the next run, here or in another replica, does the rest.
		job := newOverdueJob(invoicingpg.NewJobs(pool), traced, invoices, cfg.OverdueBatchSize, logger)
		g.Go(func() error { job.runEvery(gctx, cfg.OverdueInterval); return nil })
	}
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(ctx, cfg, logger, srv, rp)
	})
	err = g.Wait()
	logger.Info("stopped", "error", err)
	return err
}

// shutdown runs steps 1 and 2 of serve's shutdown under one deadline,
// SHUTDOWN_TIMEOUT from now. It returns an error if requests were still in
// flight at the deadline.
func shutdown(ctx context.Context, cfg config, logger *slog.Logger, srv *http.Server, rp *relayProc) error {
	start := time.Now()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		// Cut off what still runs: closing the connections cancels the
		// requests' contexts, so their database work ends and the pool can
		// close.
		errs = append(errs, fmt.Errorf("http shutdown: requests still running after SHUTDOWN_TIMEOUT: %w", err), srv.Close())
	}
	logger.Info("http server stopped", "took", time.Since(start).String())
	if rp != nil {
		// Whatever is left of the deadline, at least a moment to mark
		// what the broker acknowledged.
		left := max(time.Until(start.Add(cfg.ShutdownTimeout)), 100*time.Millisecond)
		errs = append(errs, rp.stop(left, logger))
	}
	return errors.Join(errs...)
}

// maxHeaderBytes bounds the request line and headers a server reads (Go adds
// 4 KiB of slack); larger requests are answered 431. Go's default of 1 MiB
// lets connections with unfinished headers hold a megabyte each before anyone
// is authenticated (README, "Request limits", has the measurement); 64 KiB is
// still eight times what common proxies accept.
const maxHeaderBytes = 64 << 10

// newHTTPServer returns the HTTP server of h, with timeouts that keep a slow
// or stuck client from holding a connection forever and a bound on the
// headers one may send.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// listen listens on addr (HTTP_ADDR). It returns an error naming HTTP_ADDR if
// it cannot.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on HTTP_ADDR %s: %w", addr, err)
	}
	return ln, nil
}

// openDatabase connects to DATABASE_URL and refuses to run against a schema
// older than the version this binary embeds, or dirty. A newer schema is
// run against, with a warning, as readiness accepts it: in a rolling deploy
// the next release migrates before this one's instances are replaced, and
// one of them that restarts meanwhile must come back (migrations keep the
// previous release working). It returns the pool and the version this
// binary embeds, which readiness keeps checking.
func openDatabase(ctx context.Context, cfg config, logger *slog.Logger) (_ *pgxpool.Pool, schema uint, _ error) {
	want, err := invoicingpg.LatestMigration()
	if err != nil {
		return nil, 0, err
	}
	have, dirty, err := invoicingpg.MigrateVersion(cfg.DatabaseURL)
	if err != nil {
		return nil, 0, err
	}
	if dirty {
		return nil, 0, dirtySchema("schema_migrations", have, "starting")
	}
	if have > want {
		logger.Warn("database schema is newer than this binary's latest migration: a later release migrated it; running as during a rolling deploy, replace this binary with that release",
			"schema_version", have, "binary_version", want)
	}
	if have < want {
		return nil, 0, fmt.Errorf("database schema is at version %d, this binary needs %d: run `invoicing migrate up`", have, want)
	}
	pool, err := invoicingpg.Connect(ctx, cfg.DatabaseURL, invoicingpg.MaxConns(cfg.DBMaxConns))
	return pool, want, err
}
