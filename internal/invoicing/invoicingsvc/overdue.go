package invoicingsvc

import (
	"context"
	"log/slog"
	"time"

	"github.com/invoicing-dev/invoicing/internal/invoicing/app"
	"github.com/invoicing-dev/invoicing/internal/invoicing/invoicingpg"
	"github.com/invoicing-dev/invoicing/internal/invoicing/tracing"
)

// overdueJob is the scheduled job that records invoicing.invoice.overdue:
// one run asks every invoice past its due date (app.RecordOverdue), in one
// process at a time per database (invoicingpg.Jobs' advisory lock).
type overdueJob struct {
	jobs    *invoicingpg.Jobs
	handler app.RecordOverdueHandler
	batch   int
	log     *slog.Logger
}

// newOverdueJob returns the job over the candidates, which it changes
// through invoices' unit of work (wired as the API's, decorators included),
// on the system clock.
func newOverdueJob(jobs *invoicingpg.Jobs, invoices app.Invoices, candidates app.OverdueCandidates, batch int, logger *slog.Logger) *overdueJob {
	return &overdueJob{jobs: jobs, handler: app.NewRecordOverdueHandler(invoices, candidates, app.SystemClock{}),
		batch: batch, log: logger.With("component", "overdue")}
}

// RunOverdue runs the overdue job once on a's pool, reading batch invoices
// at once, if no other process runs it; its spans go to tp. It returns
// whether it ran, what it did, and its errors (a lock it could not ask
// for, candidates it could not read, invoices whose change failed).
func (a *Admin) RunOverdue(ctx context.Context, tp *tracing.Provider, batch int, logger *slog.Logger) (ran bool, res app.OverdueResult, err error) {
	invoices := invoicingpg.NewInvoices(a.pool)
	return newOverdueJob(invoicingpg.NewJobs(a.pool), tracedInvoices(invoices, tp), invoices, batch, logger).runOnce(ctx)
}

// runOnce runs the job if no other process does. It returns whether it ran,
// what it did, and its errors (a lock it could not ask for, candidates it
// could not read, invoices whose change failed).
func (j *overdueJob) runOnce(ctx context.Context) (ran bool, res app.OverdueResult, err error) {
	ran, err = j.jobs.RunAlone(ctx, "overdue", func(ctx context.Context) error {
		var err error
		res, err = j.handler.Handle(ctx, app.RecordOverdue{BatchSize: j.batch})
		return err
	})
	return ran, res, err
}

// runEvery runs the job every interval until ctx is done, logging what each
// run did; a failed run is logged and the next one tries again.
func (j *overdueJob) runEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ran, res, err := j.runOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			j.log.Error("overdue run failed; the next one retries", "err", err, "checked", res.Checked, "recorded", res.Recorded, "failed", res.Failed)
		case ran && res.Checked > 0:
			j.log.Info("overdue run", "checked", res.Checked, "recorded", res.Recorded)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
