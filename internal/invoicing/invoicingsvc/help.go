package invoicingsvc

import "github.com/invoicing-dev/invoicing/internal/envconfig"

// The help of the one-shot commands Admin runs, for a program's command line.
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
