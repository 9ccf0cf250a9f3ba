package invoicingsvc

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
)

// relayRunner is the outbox relay with the NATS connection it publishes on
// and the notifier that carries commit notices between processes, and, once
// started, the outcome of its Run.
type relayRunner struct {
	*relay.Relay
	nc      *nats.Conn
	pub     *invoicingnats.Publisher
	commits *invoicingpg.OutboxNotifier

	finished chan struct{} // closed when Run has returned
	mu       sync.Mutex
	err      error // Run's error, until result reports it
}

// newRelay builds the outbox relay on deps.Pool and a connection to
// cfg.NATSURL. An unreachable NATS is not an error: the connection keeps
// retrying and events wait in the outbox. A reachable one whose max_payload
// is below relay.MaxEventBytes is. Close the relay with close.
func newRelay(ctx context.Context, cfg Config, deps Deps, logger *slog.Logger) (*relayRunner, error) {
	nc, err := invoicingnats.Connect(ctx, cfg.NATSURL, logger)
	if err != nil {
		return nil, err
	}
	pub, err := invoicingnats.NewPublisher(nc, cfg.Stream)
	if err == nil {
		// A server reached only later is checked when the relay prepares it.
		err = pub.CheckMaxPayload()
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	commits := invoicingpg.NewOutboxNotifier(deps.Pool, 0, logger)
	rcfg := cfg.RelayConfig
	rcfg.Metrics, rcfg.Commits = deps.RelayMetrics, commits
	r, err := relay.New(invoicingpg.NewOutbox(deps.Pool), invoicingpg.NewRelayLeadership(deps.Pool), tracedPublisher(pub, deps.Tracer), rcfg, logger)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &relayRunner{Relay: r, nc: nc, pub: pub, commits: commits}, nil
}

// close closes the relay and then the NATS connection.
func (p *relayRunner) close() {
	_ = p.Close() // it cannot fail
	p.nc.Close()
}

// start runs the relay in a goroutine. Its ctx is detached from ctx's
// cancellation: the relay must outlive the API, to publish the events of
// its last requests; stop ends it.
func (p *relayRunner) start(ctx context.Context) {
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
func (p *relayRunner) result() error {
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
func (p *relayRunner) runUntil(ctx context.Context, timeout time.Duration, logger *slog.Logger) error {
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
func (p *relayRunner) stop(timeout time.Duration, logger *slog.Logger) error {
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
