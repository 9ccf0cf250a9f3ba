package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// processBase is what serve and relay both start before their own parts.
type processBase struct {
	ln     net.Listener      // HTTP_ADDR, bound before anything connects
	cfg    config            // with NATS_URL=embedded, naming the server in this process
	pool   *pgxpool.Pool     // at the schema version this binary embeds
	schema uint              // that version
	m      *metrics.Registry // the registry /metrics serves, the relay's included
	tp     *tracing.Provider // nil with tracing off
	undo   []func()          // close undoes these, last first
}

// startProcessBase listens on HTTP_ADDR first, so that a taken port fails
// start-up at once, naming it (connections wait in the backlog until the
// command serves); then starts the embedded NATS server if NATS_URL says so,
// the tracing, the database pool and the metrics. It returns the first
// error, having undone what it started.
func startProcessBase(ctx context.Context, cfg config, logger *slog.Logger) (_ *processBase, err error) {
	p := &processBase{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if p.ln, err = listen(cfg.HTTPAddr); err != nil {
		return nil, err
	}
	p.undo = append(p.undo, func() { p.ln.Close() }) // for failures before Serve; Serve closes it too
	started, stopNATS, err := cfg.NATS.StartEmbedded(logger)
	if err != nil {
		return nil, err
	}
	cfg.NATS = started
	p.cfg = cfg
	p.undo = append(p.undo, stopNATS) // after every connection to it closed
	if p.tp, err = startTracing(ctx, cfg, logger, tracing.DefaultServiceName); err != nil {
		return nil, err
	}
	p.undo = append(p.undo, func() { p.tp.Stop(ctx, logger) }) // after the command's drain
	if p.pool, p.schema, err = invoicingsvc.OpenDatabase(ctx, cfg.Invoicing.DatabaseURL, cfg.Invoicing.MaxConns, logger); err != nil {
		return nil, err
	}
	p.undo = append(p.undo, p.pool.Close)
	if p.m, err = metrics.NewRegistry(p.pool, metrics.NewOutboxCollector(invoicingpg.NewOutbox(p.pool))); err != nil {
		return nil, err
	}
	if err = p.m.WithRelay(); err != nil {
		return nil, err
	}
	return p, nil
}

// close stops what startProcessBase started, last first: the pool, the
// tracing (flushing its spans), the embedded NATS server, the listener.
func (p *processBase) close() {
	for i := len(p.undo) - 1; i >= 0; i-- {
		p.undo[i]()
	}
}
