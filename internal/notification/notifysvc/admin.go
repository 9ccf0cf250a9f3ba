package notifysvc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

// maxFailedListed is the most failed tasks WriteFailedTasks lists.
const maxFailedListed = 1000

// WriteFailedTasks writes to w a table of up to 1,000 failed email tasks,
// oldest first, and how many it listed. It returns the first error of the
// query or of w.
func (s *Service) WriteFailedTasks(ctx context.Context, w io.Writer) error {
	failed, err := s.queue.Failed(ctx, maxFailedListed)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK_ID\tSTATE\tEVENT_ID\tREACTION\tTO\tATTEMPTS\tFAILED_AT\tLAST_ERROR")
	for _, f := range failed {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.ID, f.State, f.EventID, f.Reaction, f.To,
			f.Attempts, f.FailedAt.UTC().Format(time.RFC3339), f.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%d failed tasks\n", len(failed))
	return err
}

// RetryTask re-queues the failed task taskID. It returns an error saying
// so if no such task has failed.
func (s *Service) RetryTask(ctx context.Context, taskID int64) error {
	if err := s.queue.Retry(ctx, taskID); err != nil {
		if errors.Is(err, notifypg.ErrNotFailed) {
			return fmt.Errorf("no failed task with id %d", taskID)
		}
		return err
	}
	return nil
}

// RetryAllTasks re-queues every failed task and returns how many, or the
// query's error.
func (s *Service) RetryAllTasks(ctx context.Context) (int, error) { return s.queue.RetryAll(ctx) }

// WriteReminders writes to w a table of the payment reminder processes
// (invoiceID's alone if it is not empty), the active ones first, at most
// app.MaxRemindersListed: each invoice's state, amount due, the reminders
// sent and given up, and the next one with its time. It returns the use case's error
// (app.ErrInvalidInvoiceID) or w's.
func (s *Service) WriteReminders(ctx context.Context, invoiceID string, w io.Writer) error {
	procs, err := app.NewListReminders(s.queue).Handle(ctx, app.ListReminders{InvoiceID: invoiceID})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INVOICE\tNUMBER\tSTATE\tAMOUNT_DUE\tSENT\tGIVEN_UP\tNEXT\tAT")
	for _, p := range procs {
		next, at, amount := "-", "-", "-"
		if p.NextStep > 0 {
			next, at = fmt.Sprintf("reminder %d of %d", p.NextStep, p.Steps), p.NextAt.UTC().Format(time.RFC3339)
		}
		if p.Currency != "" {
			amount = notification.FormatAmount(p.AmountDue, p.Currency)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", p.InvoiceID, cmp.Or(p.Number, "-"), p.State, amount, p.Sent, p.GivenUp, next, at)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%d reminder processes\n", len(procs))
	return err
}
