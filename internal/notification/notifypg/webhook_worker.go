package notifypg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// WebhookConfig configures webhooks. Zero fields take the defaults noted.
type WebhookConfig struct {
	// Sender posts the deliveries. Nil: deliveries are stored and wait
	// for a process with a Sender.
	Sender *webhook.Sender
	// Schedule of a delivery's retries. Default webhook.DefaultSchedule.
	Schedule webhook.Schedule
	// DisableAfter disables an endpoint whose attempts have all failed for
	// this long. Default 120h (5 days).
	DisableAfter time.Duration
	// SecretOverlap is how long a rotated secret keeps signing. Default 24h.
	SecretOverlap time.Duration
	// MaxEndpoints is how many endpoints a tenant may register, enabled
	// or disabled: what a tenant's events fan out to. Default 16.
	MaxEndpoints int
	// Workers is how many deliveries run at once in all. Default 50.
	Workers int
	// PerEndpoint is how many of them may go to one endpoint: a slow
	// endpoint holds at most this many workers. Default 4.
	PerEndpoint int
	// PerTenant is how many of them may go to one tenant's endpoints,
	// together: however many slow endpoints a tenant has, it holds at most
	// this many workers, and the rest serve other tenants. Default a fifth
	// of Workers (at least 1).
	PerTenant int
}

func (c *WebhookConfig) setDefaults() {
	if len(c.Schedule) == 0 {
		c.Schedule = webhook.DefaultSchedule
	}
	c.DisableAfter = cmp.Or(c.DisableAfter, 120*time.Hour)
	c.SecretOverlap = cmp.Or(c.SecretOverlap, 24*time.Hour)
	c.MaxEndpoints = cmp.Or(c.MaxEndpoints, 16)
	c.Workers = cmp.Or(c.Workers, 50)
	c.PerEndpoint = cmp.Or(c.PerEndpoint, 4)
	c.PerTenant = cmp.Or(c.PerTenant, max(1, c.Workers/5))
}

// webhookQueue is the River queue of deliveries, apart from the emails'.
const webhookQueue = "webhook"

// webhookQueueConfig is the River queue of deliveries. A measured
// optimisation (BenchmarkWebhookDeliveries, docs/benchmarks-notification.md):
// River fetches at most once per FetchCooldown (default 100ms) as many jobs
// as it has free workers, which capped deliveries far below what the workers
// could send; 10ms lifts the cap. The shorter poll brings snoozed deliveries
// (retries, slots) back within 200ms rather than a second.
func webhookQueueConfig(c WebhookConfig) river.QueueConfig {
	return river.QueueConfig{MaxWorkers: c.Workers, FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 200 * time.Millisecond}
}

// webhookArgs is a delivery task: one attempt at a time of one delivery.
type webhookArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind returns the River job kind.
func (webhookArgs) Kind() string { return "notification.webhook" }

// InsertOpts puts deliveries on their own queue.
func (webhookArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: webhookQueue} }

// webhookWorker makes one attempt of a delivery and schedules the next.
type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	q *Queue

	endpoints *slots // PerEndpoint each
	tenants   *slots // PerTenant each
}

func newWebhookWorker(q *Queue) *webhookWorker {
	return &webhookWorker{q: q, endpoints: newSlots(q.cfg.Webhooks.PerEndpoint), tenants: newSlots(q.cfg.Webhooks.PerTenant)}
}

// Timeout leaves the Sender's own timeout the first word; the rest is for
// recording the attempt.
func (w *webhookWorker) Timeout(*river.Job[webhookArgs]) time.Duration {
	return webhookTimeout(w.q.cfg.Webhooks)
}

// webhookTimeout bounds one delivery task (0 without a Sender).
func webhookTimeout(c WebhookConfig) time.Duration {
	if c.Sender == nil {
		return 0
	}
	return c.Sender.Timeout() + 5*time.Second
}

// slotWait is how long an attempt may wait for one of its tenant's or
// endpoint's slots before it gives its worker up (snoozes): long enough
// for fast attempts to free one, short against a slow endpoint's.
const slotWait = 100 * time.Millisecond

// acquire takes one of the tenant's slots, then one of the endpoint's, and
// returns release; or it returns how long to defer the attempt.
func (w *webhookWorker) acquire(ctx context.Context, t target) (release func(), deferral time.Duration) {
	if ok, d := w.tenants.take(ctx, t.tenantID, slotWait); !ok {
		return nil, d
	}
	if ok, d := w.endpoints.take(ctx, t.endpointID, slotWait); !ok {
		w.tenants.undo(t.tenantID)
		return nil, d
	}
	start := time.Now()
	return func() {
		held := time.Since(start)
		w.endpoints.give(t.endpointID, held)
		w.tenants.give(t.tenantID, held)
	}, 0
}

// target is what an attempt needs of a delivery and its endpoint.
type target struct {
	status, eventID, endpointID, tenantID, url, endpointStatus string
	body                                                       []byte
	failures                                                   int
	endpoint                                                   webhook.Endpoint
}

// Work makes one attempt of the delivery (see attempt). If the task fails
// and River will not run it again (cancelled, or discarded after
// MaxAttempts), it fails the delivery first: a pending delivery without a
// task would wait for ever, and retry and replay pass pending ones by. If
// even that fails, the task is snoozed to try again.
func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	err := printable(w.attempt(ctx, job))
	var snooze *rivertype.JobSnoozeError
	var cancel *rivertype.JobCancelError
	switch {
	case err == nil || errors.As(err, &snooze):
		return err
	case !errors.As(err, &cancel) && job.Attempt < job.MaxAttempts:
		return err // River runs the task again
	}
	// The task's context may be what ran out.
	sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	if gerr := w.giveUp(sctx, job.Args.DeliveryID); gerr != nil {
		w.q.log.ErrorContext(ctx, "webhook delivery neither sent nor settled", "delivery_id", job.Args.DeliveryID, "err", errors.Join(err, gerr))
		return river.JobSnooze(giveUpRetry)
	}
	w.q.log.ErrorContext(ctx, "webhook delivery given up", "delivery_id", job.Args.DeliveryID, "attempt", job.Attempt, "err", err)
	return err
}

// giveUpRetry is how long a task whose delivery could not be settled waits
// before its next try: the database is failing, not the receiver.
const giveUpRetry = time.Minute

// givenUp is the error a given-up delivery's last attempt shows the tenant;
// the cause, an internal fault, is logged only.
const givenUp = "not delivered: the attempt could not be made or recorded (an internal error); retry the delivery"

// giveUp fails the delivery if it is still pending and logs givenUp as
// its last attempt, in one statement. If that fails (the attempts' table
// may be what refuses) it fails the delivery alone.
func (w *webhookWorker) giveUp(ctx context.Context, deliveryID string) error {
	_, err := w.q.pool.Exec(ctx, `WITH d AS (
			UPDATE notification.webhook_deliveries SET status = 'failed', next_attempt_at = NULL
			WHERE id = $1 AND status = 'pending' RETURNING id
		)
		INSERT INTO notification.webhook_attempts (delivery_id, at, duration_ms, error) SELECT id, now(), 0, $2 FROM d`,
		deliveryID, givenUp)
	if err == nil {
		return nil
	}
	w.q.log.ErrorContext(ctx, "webhook: log a given-up delivery", "delivery_id", deliveryID, "err", err)
	_, err = w.q.pool.Exec(ctx, `UPDATE notification.webhook_deliveries SET status = 'failed', next_attempt_at = NULL
		WHERE id = $1 AND status = 'pending'`, deliveryID)
	return err
}

// settleLost fails, with givenUp as their last attempt, the pending
// deliveries no task will run any more: River ended their task without
// Work settling them (a panic on the last attempt, or the process killed
// during it, which River's rescuer then discards). It runs with the hourly
// pruning, and at start: such deliveries are rare, and an hour is short
// against a retry schedule of a day.
func (q *Queue) settleLost(ctx context.Context) error {
	_, err := q.pool.Exec(ctx, `WITH lost AS (
			UPDATE notification.webhook_deliveries d SET status = 'failed', next_attempt_at = NULL
			WHERE d.status = 'pending' AND NOT EXISTS (
				SELECT 1 FROM notification.river_job j
				WHERE j.kind = $1 AND j.args->>'delivery_id' = d.id::text
					AND j.state NOT IN ('completed', 'cancelled', 'discarded'))
			RETURNING d.id
		)
		INSERT INTO notification.webhook_attempts (delivery_id, at, duration_ms, error) SELECT id, now(), 0, $2 FROM lost`,
		webhookArgs{}.Kind(), givenUp)
	if err != nil {
		return fmt.Errorf("webhook: settle deliveries without a task: %w", err)
	}
	return nil
}

// attempt makes one attempt of the delivery, logs it, and snoozes the task
// until the next attempt is due, if one is: River's own retries are left to
// failures of this process (database down), and the delivery's schedule
// lives in the delivery row.
func (w *webhookWorker) attempt(ctx context.Context, job *river.Job[webhookArgs]) (err error) {
	cfg := w.q.cfg.Webhooks
	var t target
	var prevUntil time.Time
	err = w.q.pool.QueryRow(ctx, `SELECT d.status, d.event_id, b.body, d.failures, e.id::text, e.tenant_id, e.url, e.status,
			e.secret, e.previous_secret, coalesce(e.previous_until, 'epoch')
		FROM notification.webhook_deliveries d JOIN notification.webhook_endpoints e ON e.id = d.endpoint_id
			JOIN notification.webhook_events b ON b.id = d.event_id
		WHERE d.id = $1`, job.Args.DeliveryID).Scan(&t.status, &t.eventID, &t.body, &t.failures, &t.endpointID, &t.tenantID, &t.url,
		&t.endpointStatus, &t.endpoint.Secret, &t.endpoint.PreviousSecret, &prevUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // the endpoint was deleted, and its deliveries with it
	}
	if err != nil {
		return fmt.Errorf("webhook: read delivery: %w", err)
	}
	t.endpoint.PreviousUntil = prevUntil
	if t.status != webhook.DeliveryPending {
		return nil // a duplicate task: the delivery was settled already
	}
	if t.endpointStatus != webhook.StatusEnabled {
		_, err := w.q.pool.Exec(ctx, `UPDATE notification.webhook_deliveries SET status = 'failed', next_attempt_at = NULL
			WHERE id = $1 AND status = 'pending'`, job.Args.DeliveryID)
		return err
	}
	ctx, span := w.startSpan(ctx, t, job.Attempt)
	defer func() { notification.EndSpan(span, err) }()
	release, deferral := w.acquire(ctx, t)
	if release == nil {
		// Leave the worker to another endpoint's or tenant's delivery.
		return river.JobSnooze(deferral)
	}
	defer release()
	msg := webhook.Message{URL: t.url, ID: t.eventID, Body: t.body, Secrets: t.endpoint.Secrets(time.Now())}
	msg.TraceParent, msg.TraceState = traceContext(ctx, t.body)
	res, err := cfg.Sender.Send(ctx, msg)
	if err != nil {
		return river.JobCancel(err)
	}
	wait, err := w.record(ctx, job.Args.DeliveryID, t, res)
	if err != nil {
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

// record logs the attempt res and settles the delivery: succeeded; failed
// (410 Gone, which disables the endpoint, or the schedule spent); or
// pending with its next attempt, whose wait it returns (0 if none). An
// endpoint failing for longer than DisableAfter is disabled.
//
// The attempt, the delivery and the endpoint's failure clock change in one
// statement (one round trip, atomic without a transaction): a measured
// optimisation of the path every delivery takes (BenchmarkWebhookDeliveries).
// Disabling is rare and follows in its own transaction; if the process dies
// in between, the next failure disables.
func (w *webhookWorker) record(ctx context.Context, deliveryID string, t target, res webhook.Result) (time.Duration, error) {
	cfg := w.q.cfg.Webhooks
	status, disable := webhook.DeliveryFailed, ""
	var wait time.Duration
	switch {
	case res.OK():
		status = webhook.DeliverySucceeded
	case res.StatusCode == http.StatusGone:
		disable = "the endpoint answered 410 Gone"
	default:
		var ok bool
		if wait, ok = cfg.Schedule.Next(t.failures+1, res.RetryAfter); ok {
			status = webhook.DeliveryPending
		}
	}
	var code *int
	if res.StatusCode != 0 {
		code = &res.StatusCode
	}
	var next *time.Time
	if wait > 0 {
		at := time.Now().Add(wait)
		next = &at
	}
	var since *time.Time
	err := w.q.pool.QueryRow(ctx, `WITH a AS (
			INSERT INTO notification.webhook_attempts (delivery_id, at, status_code, duration_ms, error)
			VALUES ($1, $2, $3::int, $4::int, $5)
		), d AS (
			UPDATE notification.webhook_deliveries SET status = $6, next_attempt_at = $7,
				failures = failures + CASE WHEN $8 THEN 0 ELSE 1 END
			WHERE id = $1
		), e AS (
			UPDATE notification.webhook_endpoints
			SET failing_since = CASE WHEN $8 THEN NULL ELSE coalesce(failing_since, $2) END
			WHERE id = $9 AND (failing_since IS NOT NULL OR NOT $8)
			RETURNING failing_since
		)
		SELECT (SELECT failing_since FROM e)`,
		deliveryID, res.At, code, res.Duration.Milliseconds(), res.Error, status, next, res.OK(), t.endpointID).Scan(&since)
	if err != nil {
		return 0, fmt.Errorf("webhook: record attempt: %w", err)
	}
	w.q.attempts.observe(res.Duration, res.OK())
	if disable == "" && !res.OK() && since != nil && res.At.Sub(*since) >= cfg.DisableAfter {
		disable = fmt.Sprintf("every attempt failed for %s (WEBHOOK_DISABLE_AFTER)", cfg.DisableAfter)
	}
	if disable != "" {
		if err := w.disableTx(ctx, t, disable); err != nil {
			return 0, err
		}
	}
	return wait, nil
}

// disableTx runs disable in a transaction of its own.
func (w *webhookWorker) disableTx(ctx context.Context, t target, reason string) error {
	return inTx(ctx, w.q, "webhook: disable endpoint", func(tx pgx.Tx) error { return w.disable(ctx, tx, t, reason) })
}

// disable disables the endpoint of t for reason and, in the same
// transaction, tells the tenant's other endpoints subscribed to it with an
// invoicing.webhook_endpoint.disabled event (a delivery and a task each).
func (w *webhookWorker) disable(ctx context.Context, tx pgx.Tx, t target, reason string) error {
	tag, err := tx.Exec(ctx, `UPDATE notification.webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_at = now()
		WHERE id = $1 AND status = 'enabled'`, t.endpointID, reason)
	if err != nil {
		return fmt.Errorf("webhook: disable endpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil // disabled already
	}
	w.q.log.WarnContext(ctx, "webhook endpoint disabled", "endpoint_id", t.endpointID, "reason", reason)
	ev := webhook.EndpointDisabled(uuid.Must(uuid.NewV7()).String(), t.tenantID, t.endpointID, t.url, reason, time.Now())
	rows, err := tx.Query(ctx, `SELECT id::text FROM notification.webhook_endpoints
		WHERE tenant_id = $1 AND status = 'enabled' AND ($2 = ANY(enabled_events) OR '*' = ANY(enabled_events))`, t.tenantID, ev.Type)
	if err != nil {
		return fmt.Errorf("webhook: tell of a disabled endpoint: %w", err)
	}
	endpoints, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("webhook: tell of a disabled endpoint: %w", err)
	}
	ids := make([]string, len(endpoints))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String() // time-ordered, like every delivery id
	}
	if len(endpoints) == 0 {
		return nil
	}
	if err := storeBodies(ctx, tx, eventBody{ev.ID, ev.Raw}); err != nil {
		return err
	}
	_, err = w.q.queueDeliveries(ctx, tx, `INSERT INTO notification.webhook_deliveries
			(id, endpoint_id, event_id, event_type, event_time, next_attempt_at)
		SELECT d.id, d.endpoint_id, $3, $4, $5, now() FROM unnest($1::uuid[], $2::uuid[]) AS d(id, endpoint_id)
		RETURNING id::text`,
		ids, endpoints, ev.ID, ev.Type, ev.Time)
	return err
}
