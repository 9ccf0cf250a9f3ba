package notifypg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// reminderWorker sends one step of a reminder process.
type reminderWorker struct {
	river.WorkerDefaults[reminderArgs]
	q *Queue
}

// Work sends one reminder in three moves, so that neither a lock nor a
// transaction is held while the mail server takes its time: claim (a short
// transaction that locks the process row, asks the process and records the
// reminder in flight), send, record (a second short transaction that
// records it sent and completes the task). The check is the domain's
// (ReminderProcess.Claim), made on the row as last committed: a process
// closed by an event committed before the claim sends nothing. An event
// that closes the process while the email is in flight does not wait for
// it; that one email may still leave, and is recorded, but no reminder is
// claimed after the end was committed. An attempt that dies between claim
// and record is retried (River rescues the task) and claims again: it sends
// once more, under the same Message-ID, only if the process is still
// active.
func (w *reminderWorker) Work(ctx context.Context, job *river.Job[reminderArgs]) (err error) {
	// A trace of its own: the timer, not a request, starts the attempt.
	ctx, span := notification.StartSpan(ctx, w.q.cfg.Tracer, "reminder", notification.Event{},
		trace.WithAttributes(attribute.String("invoice.id", job.Args.InvoiceID), attribute.Int("reminder.step", job.Args.Step),
			attribute.Int("task.attempt", job.Attempt)))
	defer func() { notification.EndSpan(span, err) }()
	e, ok, err := w.claim(ctx, job)
	if err != nil || !ok {
		return err
	}
	if err := w.q.send(ctx, "reminder", e, job.Attempt); err != nil {
		if final(err, job.JobRow) {
			if gerr := w.giveUp(context.WithoutCancel(ctx), job); gerr != nil {
				return errors.Join(err, gerr)
			}
		}
		return err
	}
	w.q.remindersSent.Add(1)
	// The email left: record it even if the attempt's time ran out just
	// now, or the retry would send it again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return w.record(rctx, job)
}

// recordTimeout bounds the transaction that records a reminder sent.
const recordTimeout = 10 * time.Second

// claim locks the process of job's invoice in a transaction of its own and
// asks it for the reminder. If it is to go out, claim records it in flight,
// commits and returns the email and true, the task still running. If not
// (closed, sent, no process), it completes the task in the same transaction
// and returns false.
func (w *reminderWorker) claim(ctx context.Context, job *river.Job[reminderArgs]) (e notification.Email, ok bool, err error) {
	err = w.inProcess(ctx, job, "claim", func(tx pgx.Tx, p *notification.ReminderProcess) error {
		if p != nil {
			if e, ok, err = p.Claim(job.Args.Step); err != nil {
				return river.JobCancel(err)
			}
		}
		if ok {
			return saveProcesses(ctx, tx, []*notification.ReminderProcess{p})
		}
		return complete(ctx, tx, job)
	})
	return e, ok && err == nil, err
}

// record records job's reminder sent and completes the task, in one
// transaction. A process that no longer has it in flight (changed by
// hand, pruned) is left as it is: the email left, and the task is done.
func (w *reminderWorker) record(ctx context.Context, job *river.Job[reminderArgs]) error {
	return w.inProcess(ctx, job, "record", func(tx pgx.Tx, p *notification.ReminderProcess) error {
		if p != nil {
			if err := p.MarkSent(job.Args.Step); err != nil {
				w.q.log.WarnContext(ctx, "reminder sent but not recordable", "invoice_id", job.Args.InvoiceID, "err", err)
			} else if err := saveProcesses(ctx, tx, []*notification.ReminderProcess{p}); err != nil {
				return err
			}
		}
		return complete(ctx, tx, job)
	})
}

// final reports whether the failed attempt job made is its last: the mail
// server refused the reminder for good (the task is cancelled), or the task
// has no attempt left (it is discarded).
func final(err error, job *rivertype.JobRow) bool {
	var cancel *river.JobCancelError
	return errors.As(err, &cancel) || job.Attempt >= job.MaxAttempts
}

// giveUp records job's reminder given up, in a transaction of its own, so
// that the process no longer counts it as in flight nor as to come. The
// task itself is left for River to cancel or discard, where an operator
// sees it failed. A process that no longer has it in flight is left as it
// is.
func (w *reminderWorker) giveUp(ctx context.Context, job *river.Job[reminderArgs]) error {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	return w.inProcess(ctx, job, "give up", func(tx pgx.Tx, p *notification.ReminderProcess) error {
		if p == nil {
			return nil
		}
		if err := p.GiveUp(job.Args.Step); err != nil {
			w.q.log.WarnContext(ctx, "reminder given up but not recordable", "invoice_id", job.Args.InvoiceID, "err", err)
			return nil
		}
		return saveProcesses(ctx, tx, []*notification.ReminderProcess{p})
	})
}

// inProcess runs fn in a transaction holding the lock of job's process row
// (nil if there is none), and commits. It returns fn's error, or one of
// the database's, having rolled back.
func (w *reminderWorker) inProcess(ctx context.Context, job *river.Job[reminderArgs], what string, fn func(pgx.Tx, *notification.ReminderProcess) error) (err error) {
	tx, err := w.q.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("notification: reminder %s: begin: %w", what, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	rows, err := tx.Query(ctx, selectProcess+` WHERE invoice_id = $1 FOR UPDATE`, job.Args.InvoiceID)
	if err != nil {
		return fmt.Errorf("notification: reminder %s: lock the process: %w", what, err)
	}
	procs, err := collectProcesses(rows)
	if err != nil {
		return river.JobCancel(fmt.Errorf("notification: reminder %s: %w", what, err))
	}
	var p *notification.ReminderProcess
	if len(procs) == 1 {
		p = procs[0]
	}
	if err := fn(tx, p); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("notification: reminder %s: commit: %w", what, err)
	}
	return nil
}

// complete completes job in tx.
func complete(ctx context.Context, tx pgx.Tx, job *river.Job[reminderArgs]) error {
	if _, err := river.JobCompleteTx[*riverDriver](ctx, tx, job); err != nil {
		return fmt.Errorf("notification: reminder: complete: %w", err)
	}
	return nil
}
