package notifysvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

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
