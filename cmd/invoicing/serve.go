package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"golang.org/x/sync/errgroup"

	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/notification/notifyhttp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
)

// serve runs the HTTP API and, unless RELAY_ENABLED=false, the outbox relay
// (invoicingsvc: the server stops first, then the relay drains, within
// SHUTDOWN_TIMEOUT overall), and, if NOTIFY_ENABLED=true, the notification
// consumer and its workers, until ctx is cancelled (SIGTERM, SIGINT); then
// the NATS connections and the database pools close (deferred).
//
// It returns nil after a clean shutdown; an error if start-up fails, the
// server fails, the relay stops for a reason other than a misconfigured
// broker (relay.Run's error), or requests were still running at the
// deadline.
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
	cfg = p.cfg
	var np, wp *notifysvc.Service // consuming; the webhook API's store
	if cfg.NotifyEnabled {
		if np, err = newNotify(ctx, cfg, logger, true, p.tp); err != nil {
			return err
		}
		defer np.Close()
		// Its measurements are served here; its readiness is not: the API
		// stays in rotation while NATS or the mail server is down.
		if err := p.m.Register(metrics.NewNotificationCollector(np)); err != nil {
			return err
		}
	}
	if wp = np; cfg.Notify.Webhooks && wp == nil {
		// The API's store only: deliveries run in `invoicing notify`.
		if wp, err = newNotify(ctx, cfg, logger, false, p.tp); err != nil {
			return err
		}
		defer wp.Close()
	}
	svc, err := newInvoicing(ctx, p, logger, true)
	if err != nil {
		return err
	}
	defer svc.Close()
	if cfg.Notify.Webhooks {
		notifyhttp.New(wp.WebhookApp(), svc.API().Host()).Routes(svc.API().V1())
	} else {
		notifyhttp.Off(svc.API().V1(), svc.API().Host(), errWebhooksOff)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return svc.Run(gctx) })
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
	err = g.Wait()
	logger.Info("stopped", "error", err)
	return err
}

// newInvoicing builds the invoicing context on p: the API if api, the relay
// if RELAY_ENABLED or not api (see invoicingsvc.New).
func newInvoicing(ctx context.Context, p *processBase, logger *slog.Logger, api bool) (*invoicingsvc.Service, error) {
	icfg := p.cfg.Invoicing
	icfg.API, icfg.Schema, icfg.NATSURL = api, p.schema, p.cfg.NATS.URL
	return invoicingsvc.New(ctx, invoicingsvc.Deps{
		Pool: p.pool, Listener: p.ln, Logger: logger, Tracer: p.tp, HTTP: opsConfig(p.m, logger, nil), RelayMetrics: p.m.Relay,
	}, icfg)
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

// errWebhooksOff answers the webhook API's routes on a server that does not
// serve it, so that a client learns why rather than "no such route".
var errWebhooksOff = &failure.Error{Kind: failure.NotFound, Code: "webhooks_disabled",
	Message: "webhooks are disabled on this server: it serves /v1/webhook_endpoints with WEBHOOKS_ENABLED=true"}
