package invoicingsvc

import (
	"errors"
	"time"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
)

// Vars are the environment variables of the invoicing context, in the
// order a program lists them: each fills its part of Config. NATSURL,
// ShutdownTimeout and API are the program's to set.
var Vars = []envconfig.Var[Config]{
	{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/invoicing?sslmode=disable", "PostgreSQL connection URL (postgres://; pgx settings such as pool_max_conns and sslmode are checked at start-up)", func(c *Config, v string) error {
		c.DatabaseURL = v
		return invoicingpg.CheckURL(v)
	}},
	{"DB_MAX_CONNS", "20", "maximum PostgreSQL connections in the pool (the relay leader's lock and its LISTEN for commits hold two more); unset, DATABASE_URL's pool_max_conns if it has one", envconfig.Int(1, 1000, func(c *Config) *int { return &c.MaxConns })},
	{"API_KEY_CACHE_TTL", "30s", "how long a process remembers a valid API key's tenant (0 disables): a revoked key keeps working that long", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("must be 0 or a positive duration such as 30s")
		}
		c.APIKeyCacheTTL = d
		return nil
	}},
	{"NATS_DUPLICATE_WINDOW", "2m", "JetStream duplicate-detection window of the INVOICING stream", envconfig.Duration(func(c *Config) *time.Duration { return &c.Stream.Duplicates })},
	{"NATS_STREAM_REPLICAS", "1", "replicas of the INVOICING stream (3 in a cluster for no-loss)", envconfig.Int(1, 5, func(c *Config) *int { return &c.Stream.Replicas })},
	{"NATS_ATOMIC_BATCHES", "false", "publish relay batches of 16 events or more as JetStream atomic batches (nats-server 2.12+): for a server that fsyncs every write (sync_interval: always, as compose runs it), slower on one that does not", envconfig.Bool(func(c *Config) *bool { return &c.Stream.AtomicBatches })},
	{"RELAY_ENABLED", "true", "run the outbox relay inside serve", envconfig.Bool(func(c *Config) *bool { return &c.Relay })},
	{"RELAY_POLL_INTERVAL", "1s", "how often the relay looks for events it was not woken for (at least 10ms)", envconfig.Interval(false, func(c *Config) *time.Duration { return &c.RelayConfig.PollInterval })},
	{"RELAY_BATCH_SIZE", "500", "outbox rows the relay claims and publishes at once", envconfig.Int(1, 10000, func(c *Config) *int { return &c.RelayConfig.BatchSize })},
	{"RELAY_MAX_ATTEMPTS", "10", "publish attempts of a failing event before it is parked", envconfig.Int(1, 1000000, func(c *Config) *int { return &c.RelayConfig.MaxAttempts })},
	{"OUTBOX_RETENTION", "168h", "how long published events are kept for the event feed", envconfig.Duration(func(c *Config) *time.Duration { return &c.RelayConfig.Retention })},
	{"OVERDUE_INTERVAL", "1m", "how often serve runs the overdue job (invoices past their due date record invoicing.invoice.overdue; one process at a time); 0 disables it (run `invoicing overdue` from a scheduler instead); else at least 10ms", envconfig.Interval(true, func(c *Config) *time.Duration { return &c.OverdueInterval })},
	{"OVERDUE_BATCH_SIZE", "100", "invoices the overdue job reads at once (each is changed in its own transaction)", envconfig.Int(1, 10000, func(c *Config) *int { return &c.OverdueBatchSize })},
}
