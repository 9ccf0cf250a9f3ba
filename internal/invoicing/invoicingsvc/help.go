package invoicingsvc

import (
	"slices"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
)

// The variables several commands read, by name; those of the process
// (HTTP_ADDR, LOG_LEVEL, NATS_URL, ...) with the context's.
var (
	dbEnv    = []string{"DATABASE_URL", "LOG_LEVEL"}
	natsEnv  = []string{"NATS_URL", "NATS_DUPLICATE_WINDOW", "NATS_STREAM_REPLICAS", "NATS_ATOMIC_BATCHES"}
	relayEnv = []string{"RELAY_POLL_INTERVAL", "RELAY_BATCH_SIZE", "RELAY_MAX_ATTEMPTS", "OUTBOX_RETENTION"}
	runEnv   = []string{"HTTP_ADDR", "SHUTDOWN_TIMEOUT", "DB_MAX_CONNS", "PPROF_ADDR"}
	embedEnv = []string{"NATS_EMBEDDED_ADDR", "NATS_EMBEDDED_DIR"} // NATS_URL=embedded
)

// The help of the commands that run the invoicing context, for a
// program's command line. A program that traces adds its tracing
// variables to serve's and relay's.
var (
	ServeHelp = envconfig.Command{
		Name: "serve", Synopsis: []string{"serve\trun the HTTP API (and the outbox relay unless RELAY_ENABLED=false)"},
		About: `Serves the API, /healthz, /readyz and /metrics on HTTP_ADDR until SIGTERM or SIGINT, then
finishes the requests in flight and drains the relay within SHUTDOWN_TIMEOUT. The relay runs
inside unless RELAY_ENABLED=false (several replicas may run: one leads); with NOTIFY_ENABLED=true
the notification consumer and its workers run inside too, reading the notify variables
(invoicing help notify). Refuses to start on a schema not yet migrated or dirty (invoicing migrate
status); on one a later release migrated it starts and warns, as during a rolling deploy.`,
		Env: slices.Concat(runEnv, dbEnv, []string{"API_KEY_CACHE_TTL"}, natsEnv, embedEnv, []string{"RELAY_ENABLED"}, relayEnv,
			[]string{"NOTIFY_ENABLED", "WEBHOOKS_ENABLED", "NOTIFY_DATABASE_URL", "WEBHOOK_ALLOW_PRIVATE_URLS", "WEBHOOK_SECRET_OVERLAP",
				"WEBHOOK_MAX_ENDPOINTS", "OVERDUE_INTERVAL", "OVERDUE_BATCH_SIZE"}),
	}

	RelayHelp = envconfig.Command{
		Name: "relay", Synopsis: []string{"relay\trun the outbox relay alone"},
		About: `Publishes committed outbox events to JetStream until SIGTERM or SIGINT, then drains within
SHUTDOWN_TIMEOUT. Several may run at once; one leads. Serves /healthz, /readyz and /metrics (no API)
on HTTP_ADDR.`,
		Env: slices.Concat(runEnv, dbEnv, natsEnv, embedEnv, relayEnv),
	}

	MigrateHelp = envconfig.Command{
		Name: "migrate", Synopsis: []string{
			"migrate up\tapply every pending migration, the notification schema's too",
			"migrate down N\trevert the last N migrations of the invoicing schema",
			"migrate down --all\trevert every migration of the invoicing schema (its data is lost)",
			"migrate status\tshow each schema's version, dirty flag, latest version and pending count",
			"migrate version\tprint the invoicing schema's version"},
		About: `Migrates the database of DATABASE_URL; the notification context's schema (notification) lives
in NOTIFY_DATABASE_URL, by default the same database. down never touches the notification schema,
and never runs without a count or --all. A database that does not exist yet is named, with the
createdb command that creates it.`,
		Env: []string{"DATABASE_URL", "NOTIFY_DATABASE_URL"},
	}
)

// The help of the one-shot commands Admin runs, for a program's command
// line.
var (
	APIKeyHelp = envconfig.Command{
		Name: "apikey", Synopsis: []string{"apikey create --tenant NAME\tcreate an API key for a tenant (printed once, on the last line)"},
		About: `Creates the tenant if it is new and a key for it. The key is shown once, alone on the last line,
so scripts can take it with tail -n1; only its hash is stored.`,
		Env: []string{"DATABASE_URL"},
	}

	OutboxHelp = envconfig.Command{
		Name: "outbox", Synopsis: []string{
			"outbox failed\tlist events parked after failing to publish",
			"outbox retry EVENT_ID|--all\tre-queue parked events"},
		About: `Parked events hold back the later events of their invoice. Fix the cause named in LAST_ERROR, then
retry: the relay publishes the event, then the invoice's held events, in order.`,
		Env: []string{"DATABASE_URL"},
	}

	OverdueHelp = envconfig.Command{
		Name: "overdue", Synopsis: []string{"overdue\trecord invoicing.invoice.overdue for invoices past their due date, once each"},
		About: `Runs the overdue job once, for a scheduler outside the service (cron, a Kubernetes CronJob) when
serve runs it not (OVERDUE_INTERVAL=0): every open or uncollectible invoice past its due date
records invoicing.invoice.overdue, once per invoice however often the job runs. One process at a
time runs it; if another does, it prints so and does nothing.`,
		Env: []string{"DATABASE_URL", "LOG_LEVEL", "OVERDUE_BATCH_SIZE"},
	}
)
