package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/relay"
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

	pool, err := invoicingpg.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := invoicingpg.NewOutbox(pool)

	switch {
	case args[0] == "failed":
		return listFailed(ctx, store, stdout)
	case args[1] == "--all":
		n, err := store.RetryAll(ctx)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %d parked events\n", n)
		return err
	default:
		if err := store.Retry(ctx, eventID); err != nil {
			if errors.Is(err, relay.ErrNotFailed) {
				return fmt.Errorf("no parked event with id %s", eventID)
			}
			return err
		}
		_, err = fmt.Fprintf(stdout, "re-queued %s\n", eventID)
		return err
	}
}

// maxListed is the most parked events `outbox failed` prints.
const maxListed = 1000

// listFailed prints up to maxListed parked events, oldest first, and how
// many are parked in all.
func listFailed(ctx context.Context, store *invoicingpg.Outbox, stdout io.Writer) error {
	failed, err := store.ListFailed(ctx, maxListed)
	if err != nil {
		return err
	}
	total := int64(len(failed))
	if len(failed) == maxListed {
		if total, err = store.Parked(ctx); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT_ID\tTYPE\tINVOICE\tVERSION\tATTEMPTS\tFAILED_AT\tLAST_ERROR")
	for _, f := range failed {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", f.ID, f.Type, f.AggregateID, f.Version,
			f.Attempts, f.FailedAt.UTC().Format(time.RFC3339), f.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if total > int64(len(failed)) {
		_, err = fmt.Fprintf(stdout, "%d parked events, the oldest %d shown\n", total, len(failed))
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d parked events\n", total)
	return err
}
