package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
)

// newNotify builds the notification context on NOTIFY_DATABASE_URL and, if
// consume (the process consumes events and sends: notify, notify replay,
// serve with NOTIFY_ENABLED), NATS_URL (see notifysvc.New), its spans in
// tp; else it only reads and writes the stores.
func newNotify(ctx context.Context, cfg config, logger *slog.Logger, consume bool, tp *tracing.Provider) (*notifysvc.Service, error) {
	var nc *nats.Conn
	if consume {
		var err error
		if nc, err = invoicingnats.Connect(ctx, cfg.NATS.URL, logger); err != nil {
			return nil, err
		}
	}
	ncfg := cfg.Notify
	ncfg.Consume, ncfg.Stream = consume, invoicingnats.DefaultStream
	ncfg.WebhookSubjects = []string{cloudevent.SubjectPrefix + ">"}
	s, err := notifysvc.New(ctx, notifysvc.Deps{Logger: logger, Tracer: notifyTracer(tp), NATS: nc}, ncfg)
	if err != nil && nc != nil {
		nc.Close() // New closes it only once it took it
	}
	return s, err
}

// notifyChecks returns s's readiness checks as GET /readyz runs them.
func notifyChecks(s *notifysvc.Service) []invoicinghttp.Check {
	var checks []invoicinghttp.Check
	for _, c := range s.Checks() {
		checks = append(checks, invoicinghttp.Check{Name: c.Name, Run: func(ctx context.Context) error {
			err := c.Run(ctx)
			var u *notifysvc.Unready
			switch {
			case !errors.As(err, &u):
				return err
			case u.Err == nil:
				return &invoicinghttp.Unready{Reason: u.Reason}
			}
			return errors.Join(&invoicinghttp.Unready{Reason: u.Reason}, u.Err)
		}})
	}
	return checks
}

// notify runs "notify" (the consumer and email workers, with /healthz,
// /readyz and /metrics on HTTP_ADDR), "notify failed", "notify retry
// ID|--all" and "notify replay --since TIME".
func notify(ctx context.Context, cfg config, logger *slog.Logger, args []string, stdout io.Writer) error {
	asGiven := cfg.NATS
	cfg.NATS.URL = asGiven.ClientURL() // NATS_URL=embedded: serve's server, on NATS_EMBEDDED_ADDR
	cmd, err := notifysvc.ParseCommand(args, time.Now(), cfg.Notify.Queue.InboxRetention)
	if u := (*notifysvc.UsageError)(nil); errors.As(err, &u) {
		return fmt.Errorf("%w: %s", errUsage, u.Reason)
	} else if err != nil {
		return err
	}
	var ln net.Listener
	if cmd.Name == "" {
		// As in serve and relay: a taken port fails start-up before any
		// connection.
		if ln, err = listen(cfg.HTTPAddr); err != nil {
			return err
		}
		defer ln.Close() // for the failures before Serve; Serve closes it too
	}
	tp, err := startTracing(ctx, cfg, logger, notifyServiceName)
	if err != nil {
		return err
	}
	defer tp.Stop(ctx, logger) // last: after the workers stopped
	s, err := newNotify(ctx, cfg, logger, cmd.Consumes(), tp)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case cmd.Name == "":
		return serveNotify(ctx, s, ln, logger)
	case cmd.Name == "replay" && !s.Connected():
		// A one-shot command does not wait for the background
		// reconnection: nats.go would answer "outbound buffer limit
		// exceeded".
		return asGiven.Unreachable()
	}
	return s.RunCommand(ctx, cmd, stdout)
}

// serveNotify runs s until ctx is cancelled, with /healthz, /readyz and
// /metrics on ln (HTTP_ADDR), until the consumer and workers have stopped.
func serveNotify(ctx context.Context, s *notifysvc.Service, ln net.Listener, logger *slog.Logger) error {
	m, err := metrics.NewRegistry(s.Pool(), metrics.NewNotificationCollector(s))
	if err != nil {
		return err
	}
	err = invoicinghttp.ServeWhile(ctx, ln, logger, invoicinghttp.NewOpsHandler(opsConfig(m, logger, notifyChecks(s))), func() error { return s.Run(ctx) }, "process", "notify")
	logger.Info("stopped", "error", err)
	return err
}
