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
	cmd, err := invoicingsvc.ParseOutboxCommand(args)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	a, err := invoicingsvc.OpenAdmin(ctx, cfg.Invoicing.DatabaseURL)
	if err != nil {
		return err
	}
	defer a.Close()

	switch {
	case cmd.Name == "failed":
		return a.WriteParked(ctx, stdout)
	case cmd.EventID == uuid.Nil:
		n, err := a.RetryAllParked(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %d parked events\n", n)
		return err
	default:
		if err := a.RetryParked(ctx, cmd.EventID); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %s\n", cmd.EventID)
		return err
	}
}
