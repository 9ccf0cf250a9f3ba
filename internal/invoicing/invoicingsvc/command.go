package invoicingsvc

import (
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"
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
