package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/failure"
	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/notification/notifyhttp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysvc"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// notifyConfig is the notification context's configuration; consume: the
// process consumes events and sends (notify, notify replay, serve with
// NOTIFY_ENABLED), else it only reads and writes the stores.
func notifyConfig(cfg config, consume bool) notifysvc.Config {
	return notifysvc.Config{
		DatabaseURL: cfg.notifyDatabaseURL(), DatabaseVar: cfg.notifyDatabaseVar(),
		Consume: consume, Webhooks: cfg.WebhooksEnabled,
		Stream: invoicingnats.DefaultStream, WebhookSubjects: []string{cloudevent.SubjectPrefix + ">"},
		SMTP: notifysmtp.Config{URL: cfg.SMTPURL, From: cfg.MailFrom, Domain: cfg.MailDomain, Timeout: cfg.NotifySendTimeout},
		Queue: notifypg.QueueConfig{
			MaxAttempts: cfg.NotifyMaxAttempts, RetryBase: cfg.NotifyRetryBase, RetryMax: cfg.NotifyRetryMax,
			Workers: cfg.NotifyWorkers, InboxRetention: cfg.NotifyInboxRetention, TaskTimeout: cfg.NotifySendTimeout,
			Webhooks: webhookConfig(cfg),
		},
		WebhookTimeout:  cfg.WebhookTimeout,
		WebhookPolicy:   webhook.Policy{AllowPrivate: cfg.WebhookAllowPrivate, PrivateHint: privateURLHint},
		ShutdownTimeout: cfg.ShutdownTimeout,
	}
}

// privateURLHint ends the refusal of a webhook URL that only
// WEBHOOK_ALLOW_PRIVATE_URLS would admit.
const privateURLHint = "for development against a local receiver, the server can allow http and private addresses with WEBHOOK_ALLOW_PRIVATE_URLS=true"

// webhookConfig is the webhook part of the queue's configuration.
func webhookConfig(cfg config) notifypg.WebhookConfig {
	return notifypg.WebhookConfig{
		Schedule: cfg.WebhookSchedule, DisableAfter: cfg.WebhookDisableAfter,
		SecretOverlap: cfg.WebhookOverlap, Workers: cfg.WebhookWorkers, PerEndpoint: cfg.WebhookPerEndpoint,
		PerTenant: cfg.WebhookPerTenant, MaxEndpoints: cfg.WebhookMaxEndpoints,
	}
}

// newNotify builds the notification context on NOTIFY_DATABASE_URL and, if
// consume, NATS_URL (see notifysvc.New), its spans in tp.
func newNotify(ctx context.Context, cfg config, logger *slog.Logger, consume bool, tp *tracing.Provider) (*notifysvc.Service, error) {
	dial := func(ctx context.Context) (*nats.Conn, error) { return invoicingnats.Connect(ctx, cfg.NATSURL, logger) }
	return notifysvc.New(ctx, notifysvc.Deps{Logger: logger, Tracer: notifyTracer(tp), Dial: dial}, notifyConfig(cfg, consume))
}

// webhookRoutes returns the notification context's webhook API on s's
// store, for invoicinghttp.Config.Routes to add to the API's /v1.
func webhookRoutes(s *notifysvc.Service) func(chi.Router, *invoicinghttp.Host) {
	a := s.WebhookApp()
	return func(r chi.Router, host *invoicinghttp.Host) { notifyhttp.New(a, host).Routes(r) }
}

// errWebhooksOff answers the webhook API's routes on a server that does not
// serve it, so that a client learns why rather than "no such route".
var errWebhooksOff = &failure.Error{Kind: failure.NotFound, Code: "webhooks_disabled",
	Message: "webhooks are disabled on this server: it serves /v1/webhook_endpoints with WEBHOOKS_ENABLED=true"}

// webhooksOffRoutes answers every route of the webhook API with
// errWebhooksOff, for invoicinghttp.Config.Routes when WEBHOOKS_ENABLED is
// false.
func webhooksOffRoutes(r chi.Router, host *invoicinghttp.Host) {
	off := func(w http.ResponseWriter, req *http.Request) { host.WriteProblem(w, req, errWebhooksOff) }
	r.HandleFunc("/webhook_endpoints", off)
	r.HandleFunc("/webhook_endpoints/*", off)
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
	embedded := cfg.NATSURL == embeddedNATS
	cfg = embeddedClient(cfg) // NATS_URL=embedded: serve's server, on NATS_EMBEDDED_ADDR
	since, taskID, err := parseNotifyArgs(cfg, args, time.Now())
	if err != nil {
		return err
	}
	var ln net.Listener
	if len(args) == 0 {
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
	defer stopTracing(ctx, tp, logger) // last: after the workers stopped
	s, err := newNotify(ctx, cfg, logger, len(args) == 0 || args[0] == "replay", tp)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case len(args) == 0:
		return serveNotify(ctx, s, ln, logger)
	case args[0] == "failed":
		return s.WriteFailedTasks(ctx, stdout)
	case args[0] == "replay":
		if !s.Connected() {
			// A one-shot command does not wait for the background
			// reconnection: nats.go would answer "outbound buffer limit
			// exceeded".
			return noNATSError(cfg, embedded)
		}
		r, err := s.Replay(ctx, since)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "replayed %d events since %s: %d new (their emails are queued), %d already handled\n",
			r.Read, since.UTC().Format(time.RFC3339), r.Fresh, r.Read-r.Fresh)
		return err
	default:
		return retryTasks(ctx, s, taskID, stdout)
	}
}

// parseNotifyArgs checks notify's arguments: it returns the time of
// "replay --since TIME" and the task id of "retry ID" (0 for --all), or an
// error.
func parseNotifyArgs(cfg config, args []string, now time.Time) (since time.Time, taskID int64, err error) {
	const usage = "notify takes: (nothing) | failed | retry TASK_ID|--all | replay --since TIME"
	if len(args) > 0 {
		switch {
		case args[0] == "failed" && len(args) == 1,
			args[0] == "retry" && len(args) == 2,
			args[0] == "replay" && len(args) == 3 && args[1] == "--since":
		default:
			return since, 0, fmt.Errorf("%w: %s", errUsage, usage)
		}
	}
	if len(args) == 3 {
		if since, err = parseSince(args[2], now); err != nil {
			return since, 0, fmt.Errorf("%w: --since %q: %v", errUsage, args[2], err)
		}
		if horizon := now.Add(-cfg.NotifyInboxRetention); since.Before(horizon) {
			return since, 0, fmt.Errorf("--since %s is before the inbox's horizon %s (NOTIFY_INBOX_RETENTION): events handled then are forgotten and would be sent again", since.Format(time.RFC3339), horizon.Format(time.RFC3339))
		}
	}
	if len(args) == 2 && args[1] != "--all" {
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || id < 1 {
			return since, 0, fmt.Errorf("%w: %q is not a task id", errUsage, args[1])
		}
		taskID = id
	}
	return since, taskID, nil
}

// retryTasks re-queues the failed task taskID, or every failed task if
// taskID is 0, and says so on stdout.
func retryTasks(ctx context.Context, s *notifysvc.Service, taskID int64, stdout io.Writer) error {
	if taskID == 0 {
		n, err := s.RetryAllTasks(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %d failed tasks\n", n)
		return err
	}
	if err := s.RetryTask(ctx, taskID); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "re-queued task %d\n", taskID)
	return err
}

// noNATSError says that no NATS server answered at cfg.NATSURL, and, if
// NATS_URL is embedded, that serve or relay hosts that server.
func noNATSError(cfg config, embedded bool) error {
	if embedded {
		return fmt.Errorf("no NATS server at %s: with NATS_URL=embedded, the server runs inside invoicing serve or relay, which must be running on this machine with the same NATS_EMBEDDED_ADDR", cfg.NATSURL)
	}
	return fmt.Errorf("no NATS server reachable at NATS_URL=%s", envconfig.HidePasswords(cfg.NATSURL))
}

// parseSince reads TIME as RFC 3339 or as a duration back from now ("1h").
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time (2026-11-30T10:00:00Z) or a duration back from now (1h)")
	}
	return t, nil
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
