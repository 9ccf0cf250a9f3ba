package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingnats"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
	"github.com/invoicing-dev/invoicing/internal/notification/notifynats"
	"github.com/invoicing-dev/invoicing/internal/notification/notifysmtp"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// config is every setting of the binary, read once from the environment.
// Each field names its variable and default in the README's table.
type config struct {
	HTTPAddr        string        // HTTP_ADDR
	DatabaseURL     string        // DATABASE_URL
	LogLevel        slog.Level    // LOG_LEVEL
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT
	DBMaxConns      int           // DB_MAX_CONNS
	APIKeyCacheTTL  time.Duration // API_KEY_CACHE_TTL

	OTel map[string]string // the OTEL_* variables of tracing.Variables, as set

	NATSURL             string        // NATS_URL
	NATSDuplicateWindow time.Duration // NATS_DUPLICATE_WINDOW
	NATSStreamReplicas  int           // NATS_STREAM_REPLICAS
	NATSAtomicBatches   bool          // NATS_ATOMIC_BATCHES
	NATSEmbeddedAddr    string        // NATS_EMBEDDED_ADDR
	NATSEmbeddedDir     string        // NATS_EMBEDDED_DIR

	RelayEnabled      bool          // RELAY_ENABLED
	RelayPollInterval time.Duration // RELAY_POLL_INTERVAL
	RelayBatchSize    int           // RELAY_BATCH_SIZE
	RelayMaxAttempts  int           // RELAY_MAX_ATTEMPTS
	OutboxRetention   time.Duration // OUTBOX_RETENTION

	NotifyEnabled        bool          // NOTIFY_ENABLED
	NotifyDatabaseURL    string        // NOTIFY_DATABASE_URL
	SMTPURL              string        // SMTP_URL
	MailFrom             string        // MAIL_FROM
	MailDomain           string        // MAIL_DOMAIN
	NotifyWorkers        int           // NOTIFY_WORKERS
	NotifySendTimeout    time.Duration // NOTIFY_SEND_TIMEOUT
	NotifyMaxAttempts    int           // NOTIFY_MAX_ATTEMPTS
	NotifyRetryBase      time.Duration // NOTIFY_RETRY_BASE
	NotifyRetryMax       time.Duration // NOTIFY_RETRY_MAX
	NotifyInboxRetention time.Duration // NOTIFY_INBOX_RETENTION

	WebhooksEnabled     bool             // WEBHOOKS_ENABLED
	WebhookTimeout      time.Duration    // WEBHOOK_TIMEOUT
	WebhookSchedule     webhook.Schedule // WEBHOOK_RETRY_SCHEDULE
	WebhookDisableAfter time.Duration    // WEBHOOK_DISABLE_AFTER
	WebhookOverlap      time.Duration    // WEBHOOK_SECRET_OVERLAP
	WebhookAllowPrivate bool             // WEBHOOK_ALLOW_PRIVATE_URLS
	WebhookWorkers      int              // WEBHOOK_WORKERS
	WebhookPerEndpoint  int              // WEBHOOK_ENDPOINT_CONCURRENCY
	WebhookPerTenant    int              // WEBHOOK_TENANT_CONCURRENCY
	WebhookMaxEndpoints int              // WEBHOOK_MAX_ENDPOINTS

	PprofAddr string // PPROF_ADDR

	OverdueInterval  time.Duration // OVERDUE_INTERVAL
	OverdueBatchSize int           // OVERDUE_BATCH_SIZE

	// traceExporter, set by tests only, receives the spans instead of
	// OTLP: tracing is then on whatever the OTEL_* variables say.
	traceExporter sdktrace.SpanExporter
}

// notifyDatabaseURL is where the notification context keeps its tables:
// NOTIFY_DATABASE_URL, or DATABASE_URL when that is empty.
func (c config) notifyDatabaseURL() string {
	if c.NotifyDatabaseURL != "" {
		return c.NotifyDatabaseURL
	}
	return c.DatabaseURL
}

// notifyDatabaseVar names the variable notifyDatabaseURL comes from.
func (c config) notifyDatabaseVar() string {
	if c.NotifyDatabaseURL != "" {
		return "NOTIFY_DATABASE_URL"
	}
	return "DATABASE_URL"
}

// envVar describes one setting: its name, default and how to parse it into the
// config. The table below is the single list of variables the binary reads.
type envVar struct {
	name  string
	def   string
	usage string
	set   func(c *config, v string) error
}

var envVars = []envVar{
	{"HTTP_ADDR", ":8080", "host:port the HTTP server listens on: the API, /healthz, /readyz and /metrics for `serve`; the last three for `relay`", func(c *config, v string) error { c.HTTPAddr = v; return envconfig.ListenAddr(v) }},
	{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/invoicing?sslmode=disable", "PostgreSQL connection URL (postgres://; pgx settings such as pool_max_conns and sslmode are checked at start-up)", func(c *config, v string) error {
		c.DatabaseURL = v
		return invoicingpg.CheckURL(v)
	}},
	{"LOG_LEVEL", "info", "debug, info, warn or error; JSON lines on stdout (probes and scrapes log at debug), on stderr for the commands that answer and exit", func(c *config, v string) error {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return errors.New("must be debug, info, warn or error")
		}
		return nil
	}},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OpenTelemetry: OTLP/HTTP collector URL for traces (e.g. http://localhost:4318; /v1/traces is appended); empty: tracing off, at no cost. The SDK reads the other standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, ...)", otelVar("OTEL_EXPORTER_OTLP_ENDPOINT")},
	{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "OpenTelemetry: full OTLP/HTTP URL for traces (…/v1/traces), instead of the one above", otelVar("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "", "OpenTelemetry: empty or http/protobuf, the only protocol this build speaks (no gRPC)", otelVar("OTEL_EXPORTER_OTLP_PROTOCOL")},
	{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "", "OpenTelemetry: as OTEL_EXPORTER_OTLP_PROTOCOL, for traces", otelVar("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")},
	{"OTEL_TRACES_EXPORTER", "", "OpenTelemetry: empty or otlp (export when an endpoint is set), or none (tracing off)", otelVar("OTEL_TRACES_EXPORTER")},
	{"SHUTDOWN_TIMEOUT", "15s", "on SIGTERM or SIGINT, how long in-flight requests and then the relay's drain may take, together", envconfig.Duration(func(c *config) *time.Duration { return &c.ShutdownTimeout })},
	{"DB_MAX_CONNS", "20", "maximum PostgreSQL connections in the pool (the relay leader's lock and its LISTEN for commits hold two more); unset, DATABASE_URL's pool_max_conns if it has one", envconfig.Int(1, 1000, func(c *config) *int { return &c.DBMaxConns })},
	{"API_KEY_CACHE_TTL", "30s", "how long a process remembers a valid API key's tenant (0 disables): a revoked key keeps working that long", func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("must be 0 or a positive duration such as 30s")
		}
		c.APIKeyCacheTTL = d
		return nil
	}},
	{"NATS_URL", "nats://127.0.0.1:4222", "NATS server URL (nats://, tls://, ws:// or wss://), or a comma-separated list of cluster URLs; `embedded`: a NATS server inside serve or relay, for development only (NATS_EMBEDDED_ADDR)", func(c *config, v string) error {
		c.NATSURL = v
		switch {
		case v == embeddedNATS:
			return nil
		case strings.EqualFold(strings.TrimSpace(v), embeddedNATS):
			return fmt.Errorf("the embedded server is spelled `%s`, in lower case", embeddedNATS)
		}
		return invoicingnats.CheckURLs(v)
	}},
	{"NATS_DUPLICATE_WINDOW", "2m", "JetStream duplicate-detection window of the INVOICING stream", envconfig.Duration(func(c *config) *time.Duration { return &c.NATSDuplicateWindow })},
	{"NATS_STREAM_REPLICAS", "1", "replicas of the INVOICING stream (3 in a cluster for no-loss)", envconfig.Int(1, 5, func(c *config) *int { return &c.NATSStreamReplicas })},
	{"NATS_ATOMIC_BATCHES", "false", "publish relay batches of 16 events or more as JetStream atomic batches (nats-server 2.12+): for a server that fsyncs every write (sync_interval: always, as compose runs it), slower on one that does not", envconfig.Bool(func(c *config) *bool { return &c.NATSAtomicBatches })},
	{"NATS_EMBEDDED_ADDR", "127.0.0.1:4222", "with NATS_URL=embedded (development only, never production): where the NATS server inside serve or relay listens; other commands given NATS_URL=embedded, and the nats CLI, reach it there", func(c *config, v string) error { c.NATSEmbeddedAddr = v; return envconfig.ListenAddr(v) }},
	{"NATS_EMBEDDED_DIR", "", "with NATS_URL=embedded: the JetStream store of that server, an absolute path; empty: invoicing/nats in the user's cache directory (~/.cache on Linux)", func(c *config, v string) error {
		c.NATSEmbeddedDir = v
		if v != "" && !filepath.IsAbs(v) {
			return errors.New("must be empty or an absolute path")
		}
		return nil
	}},
	{"RELAY_ENABLED", "true", "run the outbox relay inside serve", envconfig.Bool(func(c *config) *bool { return &c.RelayEnabled })},
	{"RELAY_POLL_INTERVAL", "1s", "how often the relay looks for events it was not woken for (at least 10ms)", envconfig.Interval(false, func(c *config) *time.Duration { return &c.RelayPollInterval })},
	{"RELAY_BATCH_SIZE", "500", "outbox rows the relay claims and publishes at once", envconfig.Int(1, 10000, func(c *config) *int { return &c.RelayBatchSize })},
	{"RELAY_MAX_ATTEMPTS", "10", "publish attempts of a failing event before it is parked", envconfig.Int(1, 1000000, func(c *config) *int { return &c.RelayMaxAttempts })},
	{"OUTBOX_RETENTION", "168h", "how long published events are kept for the event feed", envconfig.Duration(func(c *config) *time.Duration { return &c.OutboxRetention })},
	{"NOTIFY_ENABLED", "false", "run the notification consumer and its email workers inside serve (else run `invoicing notify`)", envconfig.Bool(func(c *config) *bool { return &c.NotifyEnabled })},
	{"NOTIFY_DATABASE_URL", "", "PostgreSQL URL of the notification context's tables (schema `notification`); empty: DATABASE_URL", func(c *config, v string) error {
		c.NotifyDatabaseURL = v
		if v == "" {
			return nil
		}
		return invoicingpg.CheckURL(v)
	}},
	{"SMTP_URL", "", "SMTP server for the notification emails: smtp://host:port (STARTTLS when offered) or smtps://host:port, user:password@ to authenticate, no path or query; empty: emails disabled (tasks wait)", func(c *config, v string) error {
		c.SMTPURL = v
		if v == "" {
			return nil
		}
		return notifysmtp.CheckURL(v)
	}},
	{"MAIL_FROM", "Invoicing <invoicing@localhost>", "sender of the notification emails", func(c *config, v string) error {
		c.MailFrom = v
		if _, err := mail.ParseAddress(v); err != nil {
			return errors.New("must be an email address such as Billing <billing@example.com>")
		}
		return nil
	}},
	{"MAIL_DOMAIN", "invoicing.localhost", "right-hand side of the emails' Message-ID <event-id.reaction@MAIL_DOMAIN>", func(c *config, v string) error {
		c.MailDomain = v
		if strings.ContainsAny(v, " <>@\r\n") || v == "" {
			return errors.New("must be a domain name")
		}
		return nil
	}},
	{"NOTIFY_WORKERS", "10", "emails sent at once", envconfig.Int(1, 1000, func(c *config) *int { return &c.NotifyWorkers })},
	{"NOTIFY_SEND_TIMEOUT", "30s", "bound on one attempt to send an email; one left running by a process that died is retried after twice this (+ up to 30s)", envconfig.Duration(func(c *config) *time.Duration { return &c.NotifySendTimeout })},
	{"NOTIFY_MAX_ATTEMPTS", "25", "attempts of an email before its task is discarded (`invoicing notify failed`)", envconfig.Int(1, 1000, func(c *config) *int { return &c.NotifyMaxAttempts })},
	{"NOTIFY_RETRY_BASE", "1s", "wait after an email's first failed attempt; it doubles with each failure", envconfig.Duration(func(c *config) *time.Duration { return &c.NotifyRetryBase })},
	{"NOTIFY_RETRY_MAX", "1h", "longest wait between two attempts of an email", envconfig.Duration(func(c *config) *time.Duration { return &c.NotifyRetryMax })},
	{"NOTIFY_INBOX_RETENTION", "720h", fmt.Sprintf("how long the inbox remembers handled event ids, at least the consumers' redelivery window (%s: a later redelivery would be handled again); replays may not reach further back", notifynats.Config{}.RedeliveryWindow()), func(c *config, v string) error {
		window := notifynats.Config{}.RedeliveryWindow()
		d, err := time.ParseDuration(v)
		if err != nil || d < window {
			return fmt.Errorf("must be a duration of at least %s (the JetStream consumers' redelivery window) such as 720h", window)
		}
		c.NotifyInboxRetention = d
		return nil
	}},
	{"WEBHOOKS_ENABLED", "false", "serve /v1/webhook_endpoints (needs the notification schema: `invoicing migrate up`) and deliver webhooks from notify (or serve with NOTIFY_ENABLED)", envconfig.Bool(func(c *config) *bool { return &c.WebhooksEnabled })},
	{"WEBHOOK_TIMEOUT", "15s", "bound on one webhook attempt, connection to response, from 1s to 2m; longer is a failure", envconfig.BoundedDuration(time.Second, 2*time.Minute, func(c *config) *time.Duration { return &c.WebhookTimeout })},
	{"WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h", "waits between a webhook delivery's attempts, 1 to 50 of them, each from 100ms to 168h; after the last the delivery has failed", func(c *config, v string) error {
		s, err := webhook.ParseSchedule(v)
		c.WebhookSchedule = s
		return err
	}},
	{"WEBHOOK_DISABLE_AFTER", "120h", "an endpoint whose attempts all fail for this long is disabled", envconfig.Duration(func(c *config) *time.Duration { return &c.WebhookDisableAfter })},
	{"WEBHOOK_SECRET_OVERLAP", "24h", "after a secret rotation, how long the old secret signs too", envconfig.Duration(func(c *config) *time.Duration { return &c.WebhookOverlap })},
	{"WEBHOOK_ALLOW_PRIVATE_URLS", "false", "allow http and loopback/private addresses as webhook URLs (development and tests only: it opens SSRF)", envconfig.Bool(func(c *config) *bool { return &c.WebhookAllowPrivate })},
	{"WEBHOOK_WORKERS", "50", "webhook attempts at once, in all", envconfig.Int(1, 1000, func(c *config) *int { return &c.WebhookWorkers })},
	{"WEBHOOK_ENDPOINT_CONCURRENCY", "4", "webhook attempts at once to one endpoint: a slow endpoint holds at most this many workers", envconfig.Int(1, 1000, func(c *config) *int { return &c.WebhookPerEndpoint })},
	// After WEBHOOK_WORKERS, which it is checked against.
	{"WEBHOOK_TENANT_CONCURRENCY", "", "webhook attempts at once to one tenant's endpoints, together: however many slow endpoints a tenant has, it holds at most this many workers; from 1 to WEBHOOK_WORKERS (equal: no share, for a single tenant); empty: a fifth of WEBHOOK_WORKERS, at least 1 (10 of the default 50)", tenantConcurrencyVar},
	{"WEBHOOK_MAX_ENDPOINTS", "16", "webhook endpoints a tenant may register, disabled ones included; one more is refused (409 webhook_endpoint_limit)", envconfig.Int(1, 1000, func(c *config) *int { return &c.WebhookMaxEndpoints })},
	{"OVERDUE_INTERVAL", "1m", "how often serve runs the overdue job (invoices past their due date record invoicing.invoice.overdue; one process at a time); 0 disables it (run `invoicing overdue` from a scheduler instead); else at least 10ms", envconfig.Interval(true, func(c *config) *time.Duration { return &c.OverdueInterval })},
	{"OVERDUE_BATCH_SIZE", "100", "invoices the overdue job reads at once (each is changed in its own transaction)", envconfig.Int(1, 10000, func(c *config) *int { return &c.OverdueBatchSize })},
	{"PPROF_ADDR", "", "if set (e.g. 127.0.0.1:6060), serve net/http/pprof there; never expose it publicly", func(c *config, v string) error {
		c.PprofAddr = v
		if v == "" {
			return nil
		}
		return envconfig.ListenAddr(v)
	}},
}

// otelVar returns the setter of an OTEL_* variable of tracing.Variables: it
// keeps the value for tracing.FromEnv (see config.tracing) once tracing.Check
// accepts it.
func otelVar(name string) func(c *config, v string) error {
	return func(c *config, v string) error {
		if c.OTel == nil {
			c.OTel = map[string]string{}
		}
		c.OTel[name] = v
		return tracing.Check(name, v)
	}
}

// tracing returns the tracing configuration of the OTEL_* variables.
func (c config) tracing() tracing.Config {
	tc, _ := tracing.FromEnv(func(name string) string { return c.OTel[name] }) // checked by loadConfig
	return tc
}

// loadConfig reads every variable through getenv, applying defaults, and
// checks every value without connecting to anything. It returns one error
// naming every variable with an invalid value, passwords in URLs hidden.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var errs []error
	for _, v := range envVars {
		val := getenv(v.name)
		if val == "" {
			val = v.def
		}
		if err := v.set(&c, val); err != nil {
			errs = append(errs, errors.New(envconfig.HidePasswords(fmt.Sprintf("%s=%q: %v", v.name, val, err))))
		}
	}
	if c.WebhookWorkers > 0 && c.WebhookPerEndpoint > c.WebhookWorkers {
		// Workers one endpoint could never get: the setting would say more
		// than the service does.
		errs = append(errs, fmt.Errorf("WEBHOOK_ENDPOINT_CONCURRENCY=%q: must be a whole number from 1 to %d (WEBHOOK_WORKERS)",
			strconv.Itoa(c.WebhookPerEndpoint), c.WebhookWorkers))
	}
	if len(errs) > 0 {
		return config{}, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	if getenv("DB_MAX_CONNS") == "" {
		// DB_MAX_CONNS's default must not override the pool size the URL
		// asks for.
		if n, ok := invoicingpg.URLMaxConns(c.DatabaseURL); ok {
			c.DBMaxConns = n
		}
	}
	return c, nil
}

// tenantConcurrencyVar parses WEBHOOK_TENANT_CONCURRENCY against the
// WEBHOOK_WORKERS parsed before it: a share above the pool would let one
// tenant's slow receivers hold every worker again.
func tenantConcurrencyVar(c *config, v string) error {
	workers := c.WebhookWorkers
	if workers == 0 {
		return nil // WEBHOOK_WORKERS is invalid, and says so
	}
	if v == "" {
		c.WebhookPerTenant = max(1, workers/5)
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > workers {
		return fmt.Errorf("must be a whole number from 1 to WEBHOOK_WORKERS (%d), or empty", workers)
	}
	c.WebhookPerTenant = n
	return nil
}
