package notifypg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// QueueConfig configures the task queue. Zero fields take the defaults noted.
type QueueConfig struct {
	// Reactions the workers render tasks with. Default
	// notification.DefaultReactions().
	Reactions []notification.Reaction
	// Mailer sends the emails. Nil disables sending: tasks are stored and
	// wait until a process with a Mailer runs them.
	Mailer notification.Mailer
	// MaxAttempts of one task before it is discarded (parked until
	// `invoicing notify retry`). Default 25.
	MaxAttempts int
	// RetryBase is the wait after a task's first failure; it doubles with
	// every further failure (±10% jitter) up to RetryMax. Defaults 1s, 1h.
	RetryBase, RetryMax time.Duration
	// Workers is how many tasks run at once. Default 10.
	Workers int
	// PerTenant is the least share of the workers one tenant's emails
	// (receipts and payment reminders together) keep while other
	// tenants' run (they share the workers equally, down to this), and how
	// many of its recent receipts go before other tenants' fresh ones.
	// Alone, a tenant's emails take every worker. Default a fifth of
	// Workers (at least 1).
	PerTenant int
	// TaskTimeout bounds one attempt of a task (the email's send). A task
	// left running by a process that died (kill -9) runs again once it has
	// been running for twice this, found by River's rescuer within 30s
	// more. Default 30s.
	TaskTimeout time.Duration
	// InboxRetention is how long handled event ids are remembered; older
	// ones are pruned hourly. It must exceed the oldest redelivery or replay
	// you expect (docs/architecture.md). Default 720h (30 days).
	InboxRetention time.Duration
	// Reminders is when an overdue invoice's payment reminders go out,
	// counted from when it became overdue. Empty: no reminders (the events
	// that would start or end them are not tracked either).
	Reminders notification.Schedule
	// Webhooks configures the webhook deliveries (run if it has a Sender).
	Webhooks WebhookConfig
	// Tracer records a span per task attempt, in the trace of the event
	// that caused the task. Nil: no spans (tracing off).
	Tracer trace.TracerProvider
}

func (c *QueueConfig) setDefaults() {
	if c.Reactions == nil {
		c.Reactions = notification.DefaultReactions()
	}
	c.MaxAttempts = cmp.Or(c.MaxAttempts, 25)
	c.RetryBase = cmp.Or(c.RetryBase, time.Second)
	c.RetryMax = cmp.Or(c.RetryMax, time.Hour)
	c.Workers = cmp.Or(c.Workers, 10)
	c.PerTenant = cmp.Or(c.PerTenant, max(1, c.Workers/5))
	c.TaskTimeout = cmp.Or(c.TaskTimeout, 30*time.Second)
	c.InboxRetention = cmp.Or(c.InboxRetention, 720*time.Hour)
	c.Webhooks.setDefaults()
}

// Queue is the durable store of tasks, one per reaction to an event, and
// (with a Mailer) the workers that run them: River, in the notification
// schema.
type Queue struct {
	pool     *pgxpool.Pool
	client   *river.Client[pgx.Tx]
	cfg      QueueConfig
	log      *slog.Logger
	attempts attemptStats // the webhook attempts this process made

	remindersSent atomic.Int64
	recent        recentTasks // each tenant's emails queued lately
}

// riverDriver is the River driver of the queue, named for the functions
// that take it as a type parameter.
type riverDriver = riverpgxv5.Driver

// emailKind is the River job kind of an email task.
const emailKind = "notification.email"

// emailArgs is an email task as River stores it.
type emailArgs struct {
	notification.Task
}

// Kind returns the River job kind.
func (emailArgs) Kind() string { return emailKind }

// pruneArgs is the periodic job that forgets inbox rows past retention.
type pruneArgs struct{}

// Kind returns the River job kind.
func (pruneArgs) Kind() string { return "notification.prune_inbox" }

// fetchCooldown is the River client's FetchCooldown (see NewQueue).
const fetchCooldown = 5 * time.Millisecond

// NewQueue returns the queue on pool (migrated by Migrate). It returns an
// error if River refuses the configuration.
func NewQueue(pool *pgxpool.Pool, cfg QueueConfig, logger *slog.Logger) (*Queue, error) {
	cfg.setDefaults()
	q := &Queue{pool: pool, cfg: cfg, log: logger}
	workers := river.NewWorkers()
	river.AddWorker(workers, &emailWorker{q: q})
	river.AddWorker(workers, &pruneWorker{q: q})
	river.AddWorker(workers, &reminderWorker{q: q})
	river.AddWorker(workers, newWebhookWorker(q))
	rc := &river.Config{
		Schema:      Schema,
		Workers:     workers,
		MaxAttempts: cfg.MaxAttempts,
		RetryPolicy: backoff{base: cfg.RetryBase, max: cfg.RetryMax},
		JobTimeout:  cfg.TaskTimeout,
		// The client's FetchCooldown also spaces the insert notices it
		// sends per queue (River's insert-notify limiter), whatever a
		// queue's own cooldown: at River's default, a task inserted within
		// 100 ms of the last notice waited for the next one or for the poll,
		// which was most of commit-to-email and commit-to-webhook at a
		// steady trickle of events. A measured optimisation (bench/notify.sh,
		// bench/webhooks.sh; docs/benchmarks-events.md): it trades at
		// most one NOTIFY and one fetch per queue per fetchCooldown for
		// tasks that start within it.
		FetchCooldown: fetchCooldown,
		// River's default is an hour: after a kill -9, the emails being
		// sent would wait that long.
		RescueStuckJobsAfter: 2 * max(cfg.TaskTimeout, webhookTimeout(cfg.Webhooks)),
		Logger:               logger.With("component", "river"),
		// Sent emails need not be kept long: the inbox remembers the event.
		CompletedJobRetentionPeriod: time.Hour,
		// Parked tasks wait for an operator as long as the inbox remembers.
		DiscardedJobRetentionPeriod: cfg.InboxRetention,
		CancelledJobRetentionPeriod: cfg.InboxRetention,
		Middleware:                  []rivertype.Middleware{newEmailShares(q)},
	}
	if q.Sending() {
		rc.Queues = map[string]river.QueueConfig{}
	}
	if cfg.Webhooks.Sender != nil {
		rc.Queues[webhookQueue] = webhookQueueConfig(cfg.Webhooks)
	}
	if cfg.Mailer != nil {
		rc.Queues[river.QueueDefault] = river.QueueConfig{MaxWorkers: cfg.Workers}
	}
	if q.Sending() {
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("notification: river client: %w", err)
	}
	q.client = client
	return q, nil
}

// Sending reports whether this queue runs tasks (it has a Mailer or a
// webhook Sender).
func (q *Queue) Sending() bool { return q.cfg.Mailer != nil || q.cfg.Webhooks.Sender != nil }

// Start starts the workers, if the queue has a Mailer or a webhook Sender; they run until Stop.
// It returns an error if River cannot start.
func (q *Queue) Start(ctx context.Context) error {
	if !q.Sending() {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("notification: start workers: %w", err)
	}
	return nil
}

// Stop waits for the running tasks to finish, until ctx is done; then it
// cancels them (they run again later: River rescues them). It returns
// ctx's error if it had to cancel.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.Sending() {
		return nil
	}
	if err := q.client.Stop(ctx); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return errors.Join(err, q.client.StopAndCancel(cctx))
	}
	return nil
}

// emailWorker sends one email task.
type emailWorker struct {
	river.WorkerDefaults[emailArgs]
	q *Queue
}

// Work renders and sends the task's email. A task no reaction can render,
// or whose email the server refuses for good, is cancelled (retrying cannot
// help; `invoicing notify retry` can once the cause is fixed); any other
// failed send is retried.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[emailArgs]) (err error) {
	ctx, span := notification.StartSpan(ctx, w.q.cfg.Tracer, "email "+job.Args.Reaction, job.Args.Event,
		trace.WithAttributes(attribute.String("event.id", job.Args.EventID), attribute.Int("task.attempt", job.Attempt)))
	defer func() { notification.EndSpan(span, err) }()
	e, err := notification.Render(job.Args.Task, w.q.cfg.Reactions)
	if err != nil {
		return river.JobCancel(err)
	}
	return w.q.send(ctx, "email", e, job.Attempt)
}

// send sends e, the what of a task's attempt, and returns what the task's
// worker returns: nil once sent; a cancellation if the server refused it
// for good (retrying cannot help; `invoicing notify retry` can once the
// cause is fixed); else the failure, which has River retry the task.
func (q *Queue) send(ctx context.Context, what string, e notification.Email, attempt int) error {
	err := printable(q.cfg.Mailer.Send(ctx, e))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, notification.ErrUndeliverable):
		q.log.WarnContext(ctx, what+" refused for good", "event_id", e.EventID, "reaction", e.Reaction, "err", err)
		return river.JobCancel(err)
	}
	q.log.WarnContext(ctx, what+" not sent", "event_id", e.EventID, "reaction", e.Reaction, "attempt", attempt, "err", err)
	return err
}

// pruneWorker deletes inbox rows older than the retention.
type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	q *Queue
}

// Work deletes the expired inbox rows in one statement.
func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	horizon := time.Now().Add(-w.q.cfg.InboxRetention)
	if _, err := w.q.pool.Exec(ctx, `DELETE FROM notification.inbox WHERE received_at < $1`, horizon); err != nil {
		return err
	}
	if err := w.q.pruneReminders(ctx, horizon); err != nil {
		return err
	}
	if err := w.q.settleLost(ctx); err != nil {
		return err
	}
	// Deliveries (and their attempts) are kept as long as the inbox
	// remembers their event: replays reach no further.
	if _, err := w.q.pool.Exec(ctx, `DELETE FROM notification.webhook_deliveries WHERE created_at < $1 AND status <> 'pending'`, horizon); err != nil {
		return err
	}
	// Then the bodies no delivery refers to any more (those pruned, or of a
	// deleted endpoint's). Only those past the horizon: a stored body is
	// used again when its event comes back, and a delivery made of it
	// while this runs would fail one of the two on the foreign key.
	_, err := w.q.pool.Exec(ctx, `DELETE FROM notification.webhook_events e WHERE created_at < $1
		AND NOT EXISTS (SELECT 1 FROM notification.webhook_deliveries d WHERE d.event_id = e.id)`, horizon)
	return err
}

// backoff is the retry policy: exponential from base, capped at max, with
// ±10% jitter so tasks failing together do not retry together.
type backoff struct{ base, max time.Duration }

// NextRetry returns when job, which has just failed its job.Attempt-th
// attempt, runs again.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.max
	if n := job.Attempt - 1; n < 40 && b.base<<n > 0 && b.base<<n < b.max {
		d = b.base << n
	}
	d += time.Duration((rand.Float64() - 0.5) * 0.2 * float64(d))
	return time.Now().Add(d)
}

// FailedTask is a task that will not run again by itself: discarded after
// its last attempt, or cancelled because it cannot be rendered.
type FailedTask struct {
	ID        int64
	State     string // discarded or cancelled
	EventID   string
	Reaction  string
	To        string
	Attempts  int
	LastError string
	FailedAt  time.Time
}

// Failed returns up to limit failed email tasks, oldest first. It returns an
// error if the database cannot be read.
func (q *Queue) Failed(ctx context.Context, limit int) ([]FailedTask, error) {
	out, _, err := q.failedAfter(ctx, nil, limit)
	return out, err
}

// failedAfter returns up to limit failed email tasks after cursor (nil:
// from the first), oldest first, and the cursor after the last of them.
func (q *Queue) failedAfter(ctx context.Context, cursor *river.JobListCursor, limit int) ([]FailedTask, *river.JobListCursor, error) {
	p := river.NewJobListParams().
		Kinds(emailKind).
		States(rivertype.JobStateDiscarded, rivertype.JobStateCancelled).
		First(limit)
	if cursor != nil {
		p = p.After(cursor)
	}
	res, err := q.client.JobList(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("notification: list failed tasks: %w", err)
	}
	out := make([]FailedTask, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		var a emailArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			return nil, nil, fmt.Errorf("notification: task %d: %w", j.ID, err)
		}
		f := FailedTask{ID: j.ID, State: string(j.State), EventID: a.EventID, Reaction: a.Reaction, To: a.To.Email, Attempts: j.Attempt}
		if n := len(j.Errors); n > 0 {
			f.LastError = j.Errors[n-1].Error
		}
		if j.FinalizedAt != nil {
			f.FailedAt = *j.FinalizedAt
		}
		out = append(out, f)
	}
	return out, res.LastCursor, nil
}

// ErrNotFailed is returned by Retry for an id that names no failed task.
var ErrNotFailed = errors.New("notification: no failed task with this id")

// Retry makes the failed task id available to run at once, with its attempt
// count kept (River grants one more attempt past MaxAttempts). It returns
// ErrNotFailed if id names no discarded or cancelled email task.
func (q *Queue) Retry(ctx context.Context, id int64) error {
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return ErrNotFailed
	}
	if err != nil {
		return fmt.Errorf("notification: retry task %d: %w", id, err)
	}
	if j.Kind != emailKind || (j.State != rivertype.JobStateDiscarded && j.State != rivertype.JobStateCancelled) {
		return ErrNotFailed
	}
	if _, err := q.client.JobRetry(ctx, id); err != nil {
		return fmt.Errorf("notification: retry task %d: %w", id, err)
	}
	return nil
}

// retryPage is how many failed tasks RetryAll reads at a time.
const retryPage = 1000

// RetryAll retries every task failed when it reads it, once, and returns
// how many. It pages by task id: the tasks it retried may fail again
// while it runs, and read again from the first they would be retried
// again, for ever. It returns an error, with the count so far, if the
// database fails.
func (q *Queue) RetryAll(ctx context.Context) (int, error) {
	n := 0
	var cursor *river.JobListCursor
	for {
		failed, next, err := q.failedAfter(ctx, cursor, retryPage)
		if err != nil || len(failed) == 0 {
			return n, err
		}
		for _, f := range failed {
			err := q.Retry(ctx, f.ID)
			switch {
			case err == nil:
				n++
			case !errors.Is(err, ErrNotFailed): // retried by someone else meanwhile: not counted
				return n, err
			}
		}
		cursor = next
	}
}

// Counts returns the number of email tasks in each River state (available,
// scheduled, retryable, running, completed, discarded, cancelled), in one
// query. It returns an error if the query fails.
func (q *Queue) Counts(ctx context.Context) (map[string]int64, error) {
	return q.counts(ctx, emailKind)
}

// WebhookCounts is Counts for the webhook delivery tasks.
func (q *Queue) WebhookCounts(ctx context.Context) (map[string]int64, error) {
	return q.counts(ctx, webhookArgs{}.Kind())
}

// WebhookEndpointCounts returns the webhook endpoints by status: enabled,
// disabled_by_tenant, and disabled_by_service (its attempts all failed for
// WEBHOOK_DISABLE_AFTER; only the service gives a reason). It returns an
// error if the query fails.
func (q *Queue) WebhookEndpointCounts(ctx context.Context) (map[string]int64, error) {
	return q.countBy(ctx, "webhook endpoints", `SELECT CASE
		WHEN status = 'enabled' THEN 'enabled'
		WHEN disabled_reason = '' THEN 'disabled_by_tenant'
		ELSE 'disabled_by_service' END, count(*)
		FROM notification.webhook_endpoints GROUP BY 1`)
}

// counts returns the number of tasks of kind in each River state.
func (q *Queue) counts(ctx context.Context, kind string) (map[string]int64, error) {
	return q.countBy(ctx, "tasks", `SELECT state::text, count(*) FROM notification.river_job WHERE kind = $1 GROUP BY state`, kind)
}

// countBy runs query, whose rows are a key and a count, and returns the
// counts by key; what names the rows in the error.
func (q *Queue) countBy(ctx context.Context, what, query string, args ...any) (map[string]int64, error) {
	rows, err := q.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("notification: count %s: %w", what, err)
	}
	counts := map[string]int64{}
	for rows.Next() {
		var key string
		var n int64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("notification: count %s: %w", what, err)
		}
		counts[key] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notification: count %s: %w", what, err)
	}
	return counts, nil
}
