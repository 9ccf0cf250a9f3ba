package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// relayProc is the outbox relay with the NATS connection it publishes on and
// the notifier that carries commit notices between processes, and, once
// started, the outcome of its Run.
type relayProc struct {
	*relay.Relay
	nc      *nats.Conn
	pub     *invoicingnats.Publisher
	commits *invoicingpg.OutboxNotifier

	finished chan struct{} // closed when Run has returned
	mu       sync.Mutex
	err      error // Run's error, until result reports it
}

// newRelay builds the outbox relay on pool and a NATS connection to
// NATS_URL, recording to m (nil: nowhere). An unreachable NATS is not an
// error: the connection keeps retrying and events wait in the outbox. A
// reachable one whose max_payload is below relay.MaxEventBytes is. Close the
// returned relay's connection with close.
func newRelay(ctx context.Context, cfg config, pool *pgxpool.Pool, logger *slog.Logger, m relay.Metrics, tp *tracing.Provider) (*relayProc, error) {
	nc, err := invoicingnats.Connect(ctx, cfg.NATSURL, logger)
	if err != nil {
		return nil, err
	}
	pub, err := invoicingnats.NewPublisher(nc, invoicingnats.StreamConfig{
		Duplicates: cfg.NATSDuplicateWindow, Replicas: cfg.NATSStreamReplicas, AtomicBatches: cfg.NATSAtomicBatches})
	if err == nil {
		// A server reached only later is checked when the relay prepares it.
		err = pub.CheckMaxPayload()
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	commits := invoicingpg.NewOutboxNotifier(pool, 0, logger)
	r, err := relay.New(invoicingpg.NewOutbox(pool), invoicingpg.NewRelayLeadership(pool), tracedPublisher(pub, tp), relay.Config{
		PollInterval: cfg.RelayPollInterval,
		BatchSize:    cfg.RelayBatchSize,
		MaxAttempts:  cfg.RelayMaxAttempts,
		Retention:    cfg.OutboxRetention,
		Metrics:      m,
		Commits:      commits,
	}, logger)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &relayProc{Relay: r, nc: nc, pub: pub, commits: commits}, nil
}

// close closes the relay and then the NATS connection.
func (p *relayProc) close() {
	_ = p.Close() // it cannot fail
	p.nc.Close()
}

// start runs the relay in a goroutine. Its ctx is detached from ctx's
// cancellation: the relay must outlive the API, to publish the events of
// its last requests; stop ends it.
func (p *relayProc) start(ctx context.Context) {
	p.finished = make(chan struct{})
	go func() {
		err := p.Run(context.WithoutCancel(ctx))
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.finished)
	}()
}

// result waits for Run to return and returns its error the first time it
// is asked, nil after: whoever sees the relay stop first reports why.
func (p *relayProc) result() error {
	<-p.finished
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.err
	p.err = nil
	return err
}

// runUntil runs the relay until ctx is done, then lets it drain for at most
// timeout (see stop). It returns once Run has returned, that is, once the
// relay has marked what the broker acknowledged and released its
// leadership, with Run's error: one saying why the relay could not go on.
func (p *relayProc) runUntil(ctx context.Context, timeout time.Duration, logger *slog.Logger) error {
	p.start(ctx)
	select {
	case <-p.finished:
		return p.result()
	case <-ctx.Done():
	}
	return p.stop(timeout, logger)
}

// stop asks the started relay to drain (see relay.Drain) and waits for it
// to return, closing it if that takes longer than timeout. It returns Run's
// error, unless result reported it already.
func (p *relayProc) stop(timeout time.Duration, logger *slog.Logger) error {
	start := time.Now()
	p.Drain()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.finished:
		logger.Info("relay stopped", "drained_in", time.Since(start).String())
	case <-t.C:
		logger.Warn("relay did not drain within SHUTDOWN_TIMEOUT; stopping it, the next leader publishes the rest", "timeout", timeout.String())
		_ = p.Close() // it cannot fail
	}
	return p.result()
}

// opsShutdownTimeout bounds the close of `relay`'s HTTP server, which serves
// only short probe and scrape requests.
const opsShutdownTimeout = 5 * time.Second

// runRelay runs "relay": the outbox relay alone, until ctx is cancelled, then
// drains it within SHUTDOWN_TIMEOUT. Several may run at once; one leads (see
// docs/architecture.md). It serves /healthz, /readyz and /metrics on
// HTTP_ADDR (no API) until the relay has stopped, so probes still answer
// while it drains.
func runRelay(ctx context.Context, cfg config, logger *slog.Logger, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("%w: relay takes no arguments", errUsage)
	}
	p, err := startProcessBase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer p.close() // after the command's own parts stopped
	cfg, ln, pool, want, m, tp := p.cfg, p.ln, p.pool, p.schema, p.m, p.tp
	r, err := newRelay(ctx, cfg, pool, logger, m.relay, tp)
	if err != nil {
		return err
	}
	defer r.close()

	h := invoicinghttp.NewOpsHandler(m.httpConfig(logger, readinessChecks(pool, want, r.pub, false)))
	return runWithOps(ctx, ln, logger, h, func() error { return r.runUntil(ctx, cfg.ShutdownTimeout, logger) }, "api", false)
}

// runWithOps serves h (the operational endpoints) on ln, bound to HTTP_ADDR
// before anything connected, while work runs, so probes still answer while
// it drains, then closes the server. It logs "listening" with attrs and
// "stopped", and returns work's error joined with the server's.
func runWithOps(ctx context.Context, ln net.Listener, logger *slog.Logger, h http.Handler, work func() error, attrs ...any) error {
	srv := newHTTPServer(h, logger)
	logger.Info("listening", append([]any{"addr", ln.Addr().String()}, attrs...)...)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	errs := []error{work()}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err), srv.Close())
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("http server: %w", err))
	}
	err := errors.Join(errs...)
	logger.Info("stopped", "error", err)
	return err
}
