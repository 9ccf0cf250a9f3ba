// Package notifysvc wires the notification context into something a
// process runs: its database pool and task queue, the SMTP mailer, the
// webhook sender, and the JetStream consumers that feed the inbox. It knows
// nothing of the invoicing context: the stream it reads and the subjects of
// the webhook consumer come in its Config.
package notifysvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
	"github.com/invoicing-dev/invoicing/internal/schemastate"
)

// WebhooksDurable is the JetStream consumer (and inbox) of webhooks: apart
// from the emails', so each keeps its own position and memory.
const WebhooksDurable = "webhooks"

// Config is what the notification context runs with.
type Config struct {
	// DatabaseURL is the PostgreSQL URL of the notification schema.
	DatabaseURL string
	// DatabaseVar names the setting DatabaseURL came from, for the error
	// of an unreachable database. Default "DATABASE_URL".
	DatabaseVar string
	// Consume makes the service consume events (Run) and send what they
	// cause. False: the stores only, for the webhook API or a one-shot
	// command; nothing connects to NATS.
	Consume bool
	// Webhooks turns on the webhook consumer and, with Consume, the
	// deliveries.
	Webhooks bool
	// Stream is the JetStream stream the consumers read. Required with
	// Consume.
	Stream string
	// WebhookSubjects are the subjects the webhook consumer is filtered to.
	// Required with Consume and Webhooks.
	WebhookSubjects []string
	// SMTP is the mail server of the emails; an empty URL disables them
	// (their tasks wait in the queue). Its Logger is set by New.
	SMTP notifysmtp.Config
	// Queue configures the task queue. Its Mailer, Tracer,
	// Webhooks.Sender and Reminders are set by New.
	Queue notifypg.QueueConfig
	// ReminderSchedule is when an overdue invoice's payment reminders go
	// out, counted from when it became overdue; empty: none.
	ReminderSchedule notification.Schedule
	// WebhookTimeout bounds one webhook attempt, connection to response.
	WebhookTimeout time.Duration
	// WebhookPolicy is where webhooks may go: checked when an endpoint is
	// registered or moved, and again by the sender when it connects.
	WebhookPolicy webhook.Policy
	// ShutdownTimeout is how long running tasks may take to finish once
	// Run's ctx is cancelled. Default 15s.
	ShutdownTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.DatabaseVar == "" {
		c.DatabaseVar = "DATABASE_URL"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 15 * time.Second
	}
}

// Validate returns an error naming the first required setting missing.
func (c Config) Validate() error {
	switch {
	case c.DatabaseURL == "":
		return errors.New("notifysvc: DatabaseURL is required")
	case c.Consume && c.Stream == "":
		return errors.New("notifysvc: Stream is required to consume")
	case c.Consume && c.Webhooks && len(c.WebhookSubjects) == 0:
		return errors.New("notifysvc: WebhookSubjects are required to consume webhooks")
	}
	return nil
}

// Deps are the process's parts the service uses.
type Deps struct {
	// Logger receives the service's logs, under context=notification.
	Logger *slog.Logger
	// Tracer continues the trace an event carries in the consumers and the
	// workers. Nil: no spans.
	Tracer trace.TracerProvider
	// NATS is the connection the consumers read the stream through,
	// retrying an unreachable server in the background. Required with
	// Consume; the service closes it.
	NATS *nats.Conn
}

// Service is the notification context of a process.
type Service struct {
	cfg    Config
	pool   *pgxpool.Pool
	queue  *notifypg.Queue
	mailer *notifysmtp.Mailer // nil: emails disabled
	nc     *nats.Conn
	cons   *notifynats.Consumer
	hooks  *notifynats.Consumer // nil unless Webhooks
}

// New connects the notification context to its database and, with Consume,
// to NATS, without starting anything. It returns an error if the
// configuration is invalid, the database is unreachable or not migrated, or
// the SMTP settings are invalid; an unreachable NATS is retried in the
// background.
func New(ctx context.Context, deps Deps, cfg Config) (_ *Service, err error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := deps.Logger.With("context", "notification")
	s := &Service{cfg: cfg}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if cfg.SMTP.URL != "" {
		cfg.SMTP.Logger = logger
		if s.mailer, err = notifysmtp.New(cfg.SMTP); err != nil {
			return nil, err
		}
	} else if cfg.Consume { // a process that consumes events, which make emails
		logger.Warn("SMTP_URL is not set: emails are disabled; their tasks wait in the queue")
	}
	if s.pool, err = pgxpool.New(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("notification database: %w", err)
	}
	// Reached first: an unreachable database is not a schema to migrate.
	if err := s.pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("notification database (%s): %w", cfg.DatabaseVar, err)
	}
	if err := SchemaReady(ctx, s.pool); err != nil {
		return nil, err
	}
	qcfg := cfg.Queue
	qcfg.Tracer = deps.Tracer
	qcfg.Reminders = cfg.ReminderSchedule
	if cfg.Webhooks && cfg.Consume {
		qcfg.Webhooks.Sender = webhook.NewSender(webhook.SenderConfig{Timeout: cfg.WebhookTimeout, Policy: cfg.WebhookPolicy})
	}
	if s.mailer != nil {
		qcfg.Mailer = s.mailer // not a typed nil: a nil *notifysmtp.Mailer would look set
	}
	if s.queue, err = notifypg.NewQueue(s.pool, qcfg, logger); err != nil {
		return nil, err
	}
	if !cfg.Consume {
		return s, nil
	}
	if s.nc = deps.NATS; s.nc == nil {
		return nil, errors.New("notifysvc: Deps.NATS is required to consume")
	}
	if s.cons, err = notifynats.New(s.nc, s.queue.Inbox(notifynats.DefaultDurable), notifynats.Config{Stream: cfg.Stream, Tracer: deps.Tracer}, logger); err != nil {
		return nil, err
	}
	if cfg.Webhooks {
		s.hooks, err = notifynats.New(s.nc, s.queue.WebhookInbox(WebhooksDurable), notifynats.Config{
			Stream: cfg.Stream, Durable: WebhooksDurable, Subjects: cfg.WebhookSubjects, Tracer: deps.Tracer,
		}, logger)
	}
	return s, err
}

// SchemaReady returns an error unless the notification schema is at the
// migration this binary embeds: unlike the invoicing schema, not a newer
// one either.
func SchemaReady(ctx context.Context, pool *pgxpool.Pool) error {
	want, err := notifypg.LatestMigration()
	if err != nil {
		return err
	}
	have, dirty, err := notifypg.SchemaVersion(ctx, pool)
	var pgErr *pgconn.PgError
	switch st := (schemastate.State{Table: versionTable, Version: have, Dirty: dirty, Latest: want}); {
	case errors.As(err, &pgErr) && (pgErr.Code == pgerrcode.UndefinedTable || pgErr.Code == pgerrcode.InvalidSchemaName):
		return fmt.Errorf("the notification schema is not created yet, this binary needs version %d: run `invoicing migrate up`", want)
	case err != nil:
		return err
	case dirty:
		return schemastate.Before(st.Clean(), "starting")
	case have != want:
		return fmt.Errorf("the notification schema is %w", &schemastate.VersionError{Version: have, Latest: want})
	}
	return nil
}

// Close closes the NATS connection and the pool. Call it after Run
// returned. It never fails.
func (s *Service) Close() error {
	if s.nc != nil {
		s.nc.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return nil
}

// Run starts the workers and consumes until ctx is cancelled; then it lets
// running tasks finish within the ShutdownTimeout and returns. It returns
// the consumers' errors and the queue's, joined.
func (s *Service) Run(ctx context.Context) error {
	if err := s.queue.Start(ctx); err != nil {
		return err
	}
	hooksDone := make(chan error, 1)
	if s.hooks != nil {
		go func() { hooksDone <- s.hooks.Run(ctx) }()
	} else {
		hooksDone <- nil
	}
	err := errors.Join(s.cons.Run(ctx), <-hooksDone)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(err, s.queue.Stop(sctx))
}

// Pool returns the service's database pool.
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// Queue returns the task queue, for the commands that list and retry
// failed tasks.
func (s *Service) Queue() *notifypg.Queue { return s.queue }

// WebhookApp returns the webhook use cases on the service's store, for the
// webhook API.
func (s *Service) WebhookApp() *app.App {
	store := s.queue.Webhooks()
	return app.New(store, store, s.cfg.WebhookPolicy)
}

// Connected reports whether the service is connected to NATS now.
func (s *Service) Connected() bool { return s.nc != nil && s.nc.IsConnected() }

// Replay hands the events of the stream since since to the email
// consumer's inbox again; those it handled already are skipped. It returns
// an error if the stream cannot be read.
func (s *Service) Replay(ctx context.Context, since time.Time) (notifynats.Replayed, error) {
	return s.cons.Replay(ctx, since)
}

// EventCounts returns how many events the email consumer handled, and how
// many of them were new to the inbox.
func (s *Service) EventCounts() (received, fresh int64) { return s.cons.Counts() }

// TaskCounts returns the email tasks by state. It returns an error if the
// query fails.
func (s *Service) TaskCounts(ctx context.Context) (map[string]int64, error) {
	return s.queue.Counts(ctx)
}

// WebhookTaskCounts returns the webhook delivery tasks by state. It
// returns an error if the query fails.
func (s *Service) WebhookTaskCounts(ctx context.Context) (map[string]int64, error) {
	return s.queue.WebhookCounts(ctx)
}

// ReminderCounts returns the payment reminder processes by state and the
// reminders sent since the process started. It returns an error if the
// query fails.
func (s *Service) ReminderCounts(ctx context.Context) (map[string]int64, int64, error) {
	return s.queue.ReminderCounts(ctx)
}

// WebhookEndpointCounts returns the webhook endpoints by status (enabled,
// disabled_by_tenant, disabled_by_service). It returns an error if the
// query fails.
func (s *Service) WebhookEndpointCounts(ctx context.Context) (map[string]int64, error) {
	return s.queue.WebhookEndpointCounts(ctx)
}

// WebhookAttemptDurations returns this process's webhook attempts by
// outcome as a histogram (see notifypg.Queue.WebhookAttemptDurations).
func (s *Service) WebhookAttemptDurations() (bounds []float64, counts map[string][]uint64, seconds map[string]float64) {
	return s.queue.WebhookAttemptDurations()
}
