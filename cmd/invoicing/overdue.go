package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingsvc"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// overdue serves `invoicing overdue`: one run of the job, for a scheduler
// outside the service (cron, a Kubernetes CronJob) when serve runs it not
// (OVERDUE_INTERVAL=0). It prints what the run did, or that another process
// is running the job, and fails if the run failed.
func overdue(ctx context.Context, cfg config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("%w: overdue takes no arguments", errUsage)
	}
	tp, err := startTracing(ctx, cfg, logger, tracing.DefaultServiceName)
	if err != nil {
		return err
	}
	defer tp.Stop(ctx, logger) // last: after the run's spans ended
	a, err := invoicingsvc.OpenAdmin(ctx, cfg.Invoicing.DatabaseURL)
	if err != nil {
		return err
	}
	defer a.Close()
	ran, res, err := a.RunOverdue(ctx, tp, cfg.Invoicing.OverdueBatchSize, logger)
	if !ran && err == nil {
		_, err = fmt.Fprintln(stdout, "another process is running the overdue job; nothing done")
		return err
	}
	if err != nil && res.Checked == 0 {
		return err // no result to report: the run failed before its first invoice
	}
	_, perr := fmt.Fprintf(stdout, "checked %d, recorded overdue %d, failed %d\n", res.Checked, res.Recorded, res.Failed)
	return errors.Join(err, perr)
}
