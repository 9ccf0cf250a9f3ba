package invoicingsvc

import (
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/envconfig"
)

// UsageError is a command line a Parse function could not understand;
// Reason says what is wrong.
type UsageError struct{ Reason string }

func (e *UsageError) Error() string { return e.Reason }

// ParseAPIKeyCommand parses the words after "apikey": "create --tenant
// NAME". It returns the tenant's name, or a *UsageError.
func ParseAPIKeyCommand(args []string) (tenant string, err error) {
	if len(args) == 0 || args[0] != "create" {
		return "", &UsageError{"apikey takes: create --tenant NAME"}
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&tenant, "tenant", "", "tenant name")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 || tenant == "" {
		return "", &UsageError{"apikey create needs --tenant NAME"}
	}
	return tenant, nil
}

// OutboxCommand is an "outbox" command: "failed" (list the parked events)
// or "retry EVENT_ID|--all" (re-queue one, or every one: EventID nil).
type OutboxCommand struct {
	Name    string // "failed" or "retry"
	EventID uuid.UUID
}

// ParseOutboxCommand parses the words after "outbox"; it returns a
// *UsageError for words it does not understand.
func ParseOutboxCommand(args []string) (OutboxCommand, error) {
	const usage = "outbox takes: failed | retry EVENT_ID|--all"
	if len(args) == 0 {
		return OutboxCommand{}, &UsageError{usage}
	}
	c := OutboxCommand{Name: args[0]}
	switch {
	case args[0] == "failed" && len(args) == 1:
	case args[0] == "retry" && len(args) == 2 && args[1] == "--all":
	case args[0] == "retry" && len(args) == 2:
		id, err := uuid.Parse(args[1])
		if err != nil {
			return c, &UsageError{fmt.Sprintf("%q is not an event id", args[1])}
		}
		c.EventID = id
	default:
		return c, &UsageError{usage}
	}
	return c, nil
}

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
