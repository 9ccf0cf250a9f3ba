package main

import (
	"context"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
)

// outbox runs "outbox failed" (list parked events) and
// "outbox retry EVENT_ID|--all" (re-queue them; the relay then publishes them
// in order before the later events of their invoices).
func outbox(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: outbox takes: failed | retry EVENT_ID|--all", errUsage)
	}
	var eventID uuid.UUID
	switch {
	case args[0] == "failed" && len(args) == 1:
	case args[0] == "retry" && len(args) == 2 && args[1] == "--all":
	case args[0] == "retry" && len(args) == 2:
		id, err := uuid.Parse(args[1])
		if err != nil {
			return fmt.Errorf("%w: %q is not an event id", errUsage, args[1])
		}
		eventID = id
	default:
		return fmt.Errorf("%w: outbox takes: failed | retry EVENT_ID|--all", errUsage)
	}

	a, err := invoicingsvc.OpenAdmin(ctx, cfg.Invoicing.DatabaseURL)
	if err != nil {
		return err
	}
	defer a.Close()

	switch {
	case args[0] == "failed":
		return a.WriteParked(ctx, stdout)
	case args[1] == "--all":
		n, err := a.RetryAllParked(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %d parked events\n", n)
		return err
	default:
		if err := a.RetryParked(ctx, eventID); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %s\n", eventID)
		return err
	}
}
