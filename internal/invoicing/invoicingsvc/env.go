package invoicingsvc

import (
	"errors"
	"time"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
	"github.com/invoicing-dev/invoicing/internal/pgurl"
)

// Vars are the environment variables of the invoicing context, in the
// order a program lists them: each fills its part of Config. NATSURL,
// ShutdownTimeout and API are the program's to set.
var Vars = []envconfig.Var[Config]{
	{Name: "DATABASE_URL", Default: "postgres://postgres@127.0.0.1:5432/invoicing?sslmode=disable", Usage: "PostgreSQL connection URL (postgres://; pgx settings such as pool_max_conns and sslmode are checked at start-up)", Set: func(c *Config, v string) error {
		c.DatabaseURL = v
		return pgurl.Check(v)
	}},
	{Name: "DB_MAX_CONNS", Default: "20", Usage: "maximum PostgreSQL connections in the pool (the relay leader's lock and its LISTEN for commits hold two more); unset, DATABASE_URL's pool_max_conns if it has one", Set: envconfig.Int(1, 1000, func(c *Config) *int { return &c.MaxConns })},
	{Name: "API_KEY_CACHE_TTL", Default: "30s", Usage: "how long a process remembers a valid API key's tenant (0 disables): a revoked key keeps working that long", Set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("must be 0 or a positive duration such as 30s")
		}
		c.APIKeyCacheTTL = d
		return nil
	}},
	{Name: "NATS_DUPLICATE_WINDOW", Default: "2m", Usage: "JetStream duplicate-detection window of the INVOICING stream", Set: envconfig.Duration(func(c *Config) *time.Duration { return &c.Stream.Duplicates })},
	{Name: "NATS_STREAM_REPLICAS", Default: "1", Usage: "replicas of the INVOICING stream (3 in a cluster for no-loss)", Set: envconfig.Int(1, 5, func(c *Config) *int { return &c.Stream.Replicas })},
	{Name: "NATS_ATOMIC_BATCHES", Default: "false", Usage: "publish relay batches of 16 events or more as JetStream atomic batches (nats-server 2.12+): for a server that fsyncs every write (sync_interval: always, as compose runs it), slower on one that does not", Set: envconfig.Bool(func(c *Config) *bool { return &c.Stream.AtomicBatches })},
	{Name: "RELAY_ENABLED", Default: "true", Usage: "run the outbox relay inside serve", Set: envconfig.Bool(func(c *Config) *bool { return &c.Relay })},
	{Name: "RELAY_POLL_INTERVAL", Default: "1s", Usage: "how often the relay looks for events it was not woken for (at least 10ms)", Set: envconfig.Interval(false, func(c *Config) *time.Duration { return &c.RelayConfig.PollInterval })},
	{Name: "RELAY_BATCH_SIZE", Default: "500", Usage: "outbox rows the relay claims and publishes at once", Set: envconfig.Int(1, 10000, func(c *Config) *int { return &c.RelayConfig.BatchSize })},
	{Name: "RELAY_MAX_ATTEMPTS", Default: "10", Usage: "publish attempts of a failing event before it is parked", Set: envconfig.Int(1, 1000000, func(c *Config) *int { return &c.RelayConfig.MaxAttempts })},
	{Name: "OUTBOX_RETENTION", Default: "168h", Usage: "how long published events are kept for the event feed", Set: envconfig.Duration(func(c *Config) *time.Duration { return &c.RelayConfig.Retention })},
	{Name: "OVERDUE_INTERVAL", Default: "1m", Usage: "how often serve runs the overdue job (invoices past their due date record invoicing.invoice.overdue; one process at a time); 0 disables it (run `invoicing overdue` from a scheduler instead); else at least 10ms", Set: envconfig.Interval(true, func(c *Config) *time.Duration { return &c.OverdueInterval })},
	{Name: "OVERDUE_BATCH_SIZE", Default: "100", Usage: "invoices the overdue job reads at once (each is changed in its own transaction)", Set: envconfig.Int(1, 10000, func(c *Config) *int { return &c.OverdueBatchSize })},
}
