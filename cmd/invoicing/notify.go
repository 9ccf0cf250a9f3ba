package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/invoicing-dev/invoicing/internal/invoicing/cloudevent"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicinghttp"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/metrics"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/notifyhttp"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// notifyProc is the notification context: its pool, task queue (with the
// email workers when SMTP_URL is set), and JetStream consumer.
type notifyProc struct {
	pool   *pgxpool.Pool
	queue  *notifypg.Queue
	mailer *notifysmtp.Mailer // nil: emails disabled
	nc     *nats.Conn
	cons   *notifynats.Consumer
	hooks  *notifynats.Consumer // nil unless WEBHOOKS_ENABLED
}

// webhooksDurable is the JetStream consumer (and inbox) of webhooks: apart
// from the emails', so each keeps its own position and memory.
const webhooksDurable = "webhooks"

// webhookConfig is the webhook part of the queue's configuration; with a
// Sender only if sender.
func webhookConfig(cfg config, sender bool) notifypg.WebhookConfig {
	w := notifypg.WebhookConfig{
		Schedule: cfg.WebhookSchedule, DisableAfter: cfg.WebhookDisableAfter,
		SecretOverlap: cfg.WebhookOverlap, Workers: cfg.WebhookWorkers, PerEndpoint: cfg.WebhookPerEndpoint,
		PerTenant: cfg.WebhookPerTenant, MaxEndpoints: cfg.WebhookMaxEndpoints,
	}
	if sender {
		w.Sender = webhook.NewSender(webhook.SenderConfig{Timeout: cfg.WebhookTimeout, Policy: webhookPolicy(cfg)})
	}
	return w
}

// webhookPolicy is where webhooks may go: checked when an endpoint is
// registered or moved, and again by the Sender when it connects.
func webhookPolicy(cfg config) webhook.Policy {
	return webhook.Policy{AllowPrivate: cfg.WebhookAllowPrivate}
}

// webhookRoutes returns the notification context's webhook API on p's
// store, for invoicinghttp.Config.Routes to add to the API's /v1.
func (p *notifyProc) webhookRoutes(cfg config) func(chi.Router, *invoicinghttp.Host) {
	store := p.queue.Webhooks()
	a := app.New(store, store, webhookPolicy(cfg))
	return func(r chi.Router, host *invoicinghttp.Host) { notifyhttp.New(a, host).Routes(r) }
}

// newNotify connects the notification context to its database
// (NOTIFY_DATABASE_URL) and, if withNATS, to NATS, without starting
// anything. It returns
// an error if the database is unreachable or not migrated, or the SMTP
// settings are invalid; an unreachable NATS is retried in the background.
// The consumers and the workers continue the trace an event carries, in tp.
func newNotify(ctx context.Context, cfg config, logger *slog.Logger, withNATS bool, tp *tracing.Provider) (_ *notifyProc, err error) {
	logger = logger.With("context", "notification")
	p := &notifyProc{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if cfg.SMTPURL != "" {
		if p.mailer, err = notifysmtp.New(notifysmtp.Config{URL: cfg.SMTPURL, From: cfg.MailFrom, Domain: cfg.MailDomain, Timeout: cfg.NotifySendTimeout, Logger: logger}); err != nil {
			return nil, err
		}
	} else if withNATS { // a process that consumes events, which make emails
		logger.Warn("SMTP_URL is not set: emails are disabled; their tasks wait in the queue")
	}
	if p.pool, err = pgxpool.New(ctx, cfg.notifyDatabaseURL()); err != nil {
		return nil, fmt.Errorf("notification database: %w", err)
	}
	// Reached first: an unreachable database is not a schema to migrate.
	if err := p.pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("notification database (%s): %w", cfg.notifyDatabaseVar(), err)
	}
	if err := notifySchemaReady(ctx, p.pool); err != nil {
		return nil, err
	}
	qcfg := notifypg.QueueConfig{
		MaxAttempts: cfg.NotifyMaxAttempts, RetryBase: cfg.NotifyRetryBase, RetryMax: cfg.NotifyRetryMax,
		Workers: cfg.NotifyWorkers, InboxRetention: cfg.NotifyInboxRetention, TaskTimeout: cfg.NotifySendTimeout,
		Webhooks: webhookConfig(cfg, cfg.WebhooksEnabled && withNATS),
		Tracer:   notifyTracer(tp),
	}
	if p.mailer != nil {
		qcfg.Mailer = p.mailer // not a typed nil: a nil *notifysmtp.Mailer would look set
	}
	if p.queue, err = notifypg.NewQueue(p.pool, qcfg, logger); err != nil {
		return nil, err
	}
	if !withNATS {
		return p, nil
	}
	if p.nc, err = invoicingnats.Connect(ctx, cfg.NATSURL, logger); err != nil {
		return nil, err
	}
	if p.cons, err = notifynats.New(p.nc, p.queue.Inbox(notifynats.DefaultDurable), notifynats.Config{Stream: invoicingnats.DefaultStream, Tracer: notifyTracer(tp)}, logger); err != nil {
		return nil, err
	}
	if cfg.WebhooksEnabled {
		p.hooks, err = notifynats.New(p.nc, p.queue.WebhookInbox(webhooksDurable), notifynats.Config{
			Stream: invoicingnats.DefaultStream, Durable: webhooksDurable, Subjects: []string{cloudevent.SubjectPrefix + ">"},
			Tracer: notifyTracer(tp),
		}, logger)
	}
	return p, err
}

// notifySchemaReady returns an error unless the notification schema is at
// the migration this binary embeds.
func notifySchemaReady(ctx context.Context, pool *pgxpool.Pool) error {
	want, err := notifypg.LatestMigration()
	if err != nil {
		return err
	}
	have, dirty, err := notifypg.SchemaVersion(ctx, pool)
	if err == nil && dirty {
		return dirtySchema("notification.schema_migrations", have, "starting")
	}
	if err != nil || have != want {
		return fmt.Errorf("the notification schema is at version %d (dirty: %t, %v), this binary needs %d: run `invoicing migrate up`", have, dirty, err, want)
	}
	return nil
}

// close closes the NATS connection and the pool. Call it after run returned.
func (p *notifyProc) close() {
	if p.nc != nil {
		p.nc.Close()
	}
	if p.pool != nil {
		p.pool.Close()
	}
}

// run starts the email workers and consumes until ctx is cancelled; then it
// lets running emails finish within timeout and returns.
func (p *notifyProc) run(ctx context.Context, timeout time.Duration) error {
	if err := p.queue.Start(ctx); err != nil {
		return err
	}
	hooksDone := make(chan error, 1)
	if p.hooks != nil {
		go func() { hooksDone <- p.hooks.Run(ctx) }()
	} else {
		hooksDone <- nil
	}
	err := errors.Join(p.cons.Run(ctx), <-hooksDone)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	return errors.Join(err, p.queue.Stop(sctx))
}

// checks returns the notify process's readiness checks: its database and
// schema, the consumer on NATS, and the SMTP server (failing while
// SMTP_URL is unset: this process then sends nothing).
func (p *notifyProc) checks() []invoicinghttp.Check {
	return []invoicinghttp.Check{
		{Name: "database", Run: func(ctx context.Context) error {
			if err := p.pool.Ping(ctx); err != nil {
				return errors.Join(&invoicinghttp.Unready{Reason: "unreachable"}, err)
			}
			return nil
		}},
		{Name: "schema", Run: func(ctx context.Context) error {
			if err := notifySchemaReady(ctx, p.pool); err != nil {
				return errors.Join(&invoicinghttp.Unready{Reason: "notification schema not migrated: run `invoicing migrate up`"}, err)
			}
			return nil
		}},
		{Name: "nats", Run: func(ctx context.Context) error {
			err := p.cons.Ready(ctx)
			switch {
			case errors.Is(err, notifynats.ErrNotConnected):
				return errors.Join(&invoicinghttp.Unready{Reason: "not connected"}, err)
			case errors.Is(err, notifynats.ErrNoConsumer):
				return errors.Join(&invoicinghttp.Unready{Reason: "consumer " + p.cons.Durable() + " not found"}, err)
			}
			return err
		}},
		{Name: "webhooks", Run: func(ctx context.Context) error {
			if p.hooks == nil {
				return nil // WEBHOOKS_ENABLED=false: nothing to check
			}
			if err := p.hooks.Ready(ctx); err != nil {
				return errors.Join(&invoicinghttp.Unready{Reason: "consumer " + p.hooks.Durable() + " not ready"}, err)
			}
			return nil
		}},
		{Name: "smtp", Run: func(ctx context.Context) error {
			if p.mailer == nil {
				return &invoicinghttp.Unready{Reason: "emails disabled: SMTP_URL not set"}
			}
			if err := p.mailer.Ping(ctx); err != nil {
				return errors.Join(&invoicinghttp.Unready{Reason: "unreachable"}, err)
			}
			return nil
		}},
	}
}

// collector reports the notification context's measurements: tasks by
// state (one query per scrape) and the events the consumer handled.
func (p *notifyProc) collector() prometheus.Collector { return &notifyCollector{p: p} }

type notifyCollector struct{ p *notifyProc }

var (
	notifyTasksDesc  = prometheus.NewDesc("notification_tasks", "Email tasks by River state (discarded: parked, see `invoicing notify failed`).", []string{"state"}, nil)
	notifyEventsDesc = prometheus.NewDesc("notification_events_received_total", "Events the consumer handled (inbox committed), re-deliveries included.", nil, nil)
	notifyNewDesc    = prometheus.NewDesc("notification_events_new_total", "Events new to the inbox, turned into tasks.", nil, nil)
	webhookTasksDesc = prometheus.NewDesc("notification_webhook_tasks", "Webhook delivery tasks by River state (scheduled: waiting for a retry).", []string{"state"}, nil)
)

// Describe sends the descriptors.
func (c *notifyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- notifyTasksDesc
	ch <- notifyEventsDesc
	ch <- notifyNewDesc
	ch <- webhookTasksDesc
}

// Collect sends the counts; a failed task query leaves the gauge out.
func (c *notifyCollector) Collect(ch chan<- prometheus.Metric) {
	received, fresh := c.p.cons.Counts()
	ch <- prometheus.MustNewConstMetric(notifyEventsDesc, prometheus.CounterValue, float64(received))
	ch <- prometheus.MustNewConstMetric(notifyNewDesc, prometheus.CounterValue, float64(fresh))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for desc, count := range map[*prometheus.Desc]func(context.Context) (map[string]int64, error){
		notifyTasksDesc: c.p.queue.Counts, webhookTasksDesc: c.p.queue.WebhookCounts,
	} {
		counts, err := count(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(desc, err)
			continue
		}
		for _, state := range []string{"available", "scheduled", "retryable", "running", "completed", "discarded", "cancelled"} {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(counts[state]), state)
		}
	}
}

// notify runs "notify" (the consumer and email workers, with /healthz,
// /readyz and /metrics on HTTP_ADDR), "notify failed", "notify retry
// ID|--all" and "notify replay --since TIME".
func notify(ctx context.Context, cfg config, logger *slog.Logger, args []string, stdout io.Writer) error {
	const usage = "notify takes: (nothing) | failed | retry TASK_ID|--all | replay --since TIME"
	embedded := cfg.NATSURL == embeddedNATS
	cfg = embeddedClient(cfg) // NATS_URL=embedded: serve's server, on NATS_EMBEDDED_ADDR
	if len(args) > 0 {
		switch {
		case args[0] == "failed" && len(args) == 1,
			args[0] == "retry" && len(args) == 2,
			args[0] == "replay" && len(args) == 3 && args[1] == "--since":
		default:
			return fmt.Errorf("%w: %s", errUsage, usage)
		}
	}
	var since time.Time
	if len(args) == 3 {
		var err error
		if since, err = parseSince(args[2], time.Now()); err != nil {
			return fmt.Errorf("%w: --since %q: %v", errUsage, args[2], err)
		}
		if horizon := time.Now().Add(-cfg.NotifyInboxRetention); since.Before(horizon) {
			return fmt.Errorf("--since %s is before the inbox's horizon %s (NOTIFY_INBOX_RETENTION): events handled then are forgotten and would be sent again", since.Format(time.RFC3339), horizon.Format(time.RFC3339))
		}
	}
	var taskID int64
	if len(args) == 2 && args[1] != "--all" {
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || id < 1 {
			return fmt.Errorf("%w: %q is not a task id", errUsage, args[1])
		}
		taskID = id
	}

	var ln net.Listener
	if len(args) == 0 {
		// As in serve and relay: a taken port fails start-up before any
		// connection.
		var err error
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
	p, err := newNotify(ctx, cfg, logger, len(args) == 0 || args[0] == "replay", tp)
	if err != nil {
		return err
	}
	defer p.close()
	switch {
	case len(args) == 0:
		return p.serveOps(ctx, ln, cfg, logger)
	case args[0] == "failed":
		return listFailedTasks(ctx, p.queue, stdout)
	case args[0] == "replay":
		if !p.nc.IsConnected() {
			// A one-shot command does not wait for the background
			// reconnection: nats.go would answer "outbound buffer limit
			// exceeded".
			return noNATSError(cfg, embedded)
		}
		r, err := p.cons.Replay(ctx, since)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "replayed %d events since %s: %d new (their emails are queued), %d already handled\n",
			r.Read, since.UTC().Format(time.RFC3339), r.Fresh, r.Read-r.Fresh)
		return err
	case taskID == 0:
		n, err := p.queue.RetryAll(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %d failed tasks\n", n)
		return err
	default:
		if err := p.queue.Retry(ctx, taskID); err != nil {
			if errors.Is(err, notifypg.ErrNotFailed) {
				return fmt.Errorf("no failed task with id %d", taskID)
			}
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued task %d\n", taskID)
		return err
	}
}

// noNATSError says that no NATS server answered at cfg.NATSURL, and, if
// NATS_URL is embedded, that serve or relay hosts that server.
func noNATSError(cfg config, embedded bool) error {
	if embedded {
		return fmt.Errorf("no NATS server at %s: with NATS_URL=embedded, the server runs inside invoicing serve or relay, which must be running on this machine with the same NATS_EMBEDDED_ADDR", cfg.NATSURL)
	}
	return fmt.Errorf("no NATS server reachable at NATS_URL=%s", hidePasswords(cfg.NATSURL))
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

// serveOps runs the process until ctx is cancelled, with /healthz, /readyz
// and /metrics on ln (HTTP_ADDR), until the consumer and workers have stopped.
func (p *notifyProc) serveOps(ctx context.Context, ln net.Listener, cfg config, logger *slog.Logger) error {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewPoolCollector(p.pool),
		p.collector(),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	h, err := metrics.NewHTTP(reg)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m := &instruments{registry: reg, http: h}
	return runWithOps(ctx, ln, logger, invoicinghttp.NewOpsHandler(m.httpConfig(logger, p.checks())), func() error { return p.run(ctx, cfg.ShutdownTimeout) }, "process", "notify")
}

// listFailedTasks prints up to 1,000 failed email tasks, oldest first.
func listFailedTasks(ctx context.Context, q *notifypg.Queue, stdout io.Writer) error {
	failed, err := q.Failed(ctx, 1000)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK_ID\tSTATE\tEVENT_ID\tREACTION\tTO\tATTEMPTS\tFAILED_AT\tLAST_ERROR")
	for _, f := range failed {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.ID, f.State, f.EventID, f.Reaction, f.To,
			f.Attempts, f.FailedAt.UTC().Format(time.RFC3339), f.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d failed tasks\n", len(failed))
	return err
}
