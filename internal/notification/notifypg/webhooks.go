package notifypg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/invoicing-dev/invoicing/internal/notification/app"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// Webhooks is the store of a tenant's webhook endpoints and their
// deliveries: what the webhook API's use cases read and change.
type Webhooks struct {
	q *Queue
}

var (
	_ app.Endpoints  = (*Webhooks)(nil)
	_ app.Deliveries = (*Webhooks)(nil)
)

// Webhooks returns the endpoint store on the queue's database.
func (q *Queue) Webhooks() *Webhooks { return &Webhooks{q: q} }

const endpointColumns = `id::text, tenant_id, url, description, enabled_events, status, disabled_reason,
	secret, previous_secret, coalesce(previous_until, 'epoch'), created_at, updated_at`

func scanEndpoint(row pgx.Row) (webhook.Endpoint, error) {
	var e webhook.Endpoint
	err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &e.EnabledEvents, &e.Status, &e.DisabledReason,
		&e.Secret, &e.PreviousSecret, &e.PreviousUntil, &e.CreatedAt, &e.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, webhook.ErrNotFound
	}
	return e, err
}

// Create registers an endpoint of tenant with a fresh secret; ne is valid
// (the use case checked it). It returns a *webhook.LimitError if tenant has
// MaxEndpoints already, or an error if the database fails.
func (s *Webhooks) Create(ctx context.Context, tenant string, ne webhook.NewEndpoint) (webhook.Endpoint, error) {
	var e webhook.Endpoint
	err := inTx(ctx, s.q, "webhook: create endpoint", func(tx pgx.Tx) error {
		// Registrations of one tenant take turns until commit: two counted
		// at once would both see room for one more.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('notification.webhook_endpoints:' || $1, 0))`, tenant); err != nil {
			return fmt.Errorf("webhook: lock the tenant's endpoints: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM notification.webhook_endpoints WHERE tenant_id = $1`, tenant).Scan(&n); err != nil {
			return fmt.Errorf("webhook: count endpoints: %w", err)
		}
		if err := webhook.Admit(n, s.q.cfg.Webhooks.MaxEndpoints); err != nil {
			return err
		}
		var err error
		e, err = scanEndpoint(tx.QueryRow(ctx, `INSERT INTO notification.webhook_endpoints
			(id, tenant_id, url, description, enabled_events, secret) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING `+endpointColumns, uuid.Must(uuid.NewV7()), tenant, ne.URL, ne.Description, ne.EnabledEvents, webhook.NewSecret()))
		if err != nil {
			return fmt.Errorf("webhook: create endpoint: %w", err)
		}
		return nil
	})
	return e, err
}

// Get returns the endpoint id of tenant, or webhook.ErrNotFound.
func (s *Webhooks) Get(ctx context.Context, tenant, id string) (webhook.Endpoint, error) {
	if _, err := uuid.Parse(id); err != nil {
		return webhook.Endpoint{}, webhook.ErrNotFound
	}
	e, err := scanEndpoint(s.q.pool.QueryRow(ctx, `SELECT `+endpointColumns+`
		FROM notification.webhook_endpoints WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if err != nil && !errors.Is(err, webhook.ErrNotFound) {
		return e, fmt.Errorf("webhook: get endpoint: %w", err)
	}
	return e, err
}

// List returns a page of tenant's endpoints, newest first, and whether more
// follow. It returns webhook.ErrNotFound if p.StartingAfter is not one of
// tenant's endpoint ids, or an error if the database fails.
func (s *Webhooks) List(ctx context.Context, tenant string, p webhook.Page) ([]webhook.Endpoint, bool, error) {
	after, err := s.cursor(ctx, p.StartingAfter, `SELECT EXISTS (SELECT 1 FROM notification.webhook_endpoints
		WHERE tenant_id = $2 AND id = $1)`, tenant)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.q.pool.Query(ctx, `SELECT `+endpointColumns+` FROM notification.webhook_endpoints
		WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3::bigint`, tenant, after, p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("webhook: list endpoints: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Endpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, false, fmt.Errorf("webhook: list endpoints: %w", err)
	}
	if len(out) > p.Limit {
		return out[:p.Limit], true, nil
	}
	return out, false, nil
}

// Update applies p, valid (the use case checked it), to the endpoint id of
// tenant and returns it. It returns webhook.ErrNotFound if there is no such
// endpoint, or an error if the database fails.
func (s *Webhooks) Update(ctx context.Context, tenant, id string, p webhook.Patch) (webhook.Endpoint, error) {
	if _, err := uuid.Parse(id); err != nil {
		return webhook.Endpoint{}, webhook.ErrNotFound
	}
	e, err := scanEndpoint(s.q.pool.QueryRow(ctx, `UPDATE notification.webhook_endpoints SET
		url = coalesce($3, url), enabled_events = coalesce($4, enabled_events),
		description = coalesce($5, description), status = coalesce($6, status),
		disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason ELSE '' END,
		failing_since = CASE WHEN $6 = 'enabled' THEN NULL ELSE failing_since END,
		updated_at = now()
		WHERE tenant_id = $1 AND id = $2 RETURNING `+endpointColumns, tenant, id, p.URL, p.EnabledEvents, p.Description, p.Status))
	if err != nil && !errors.Is(err, webhook.ErrNotFound) {
		return e, fmt.Errorf("webhook: update endpoint: %w", err)
	}
	return e, err
}

// Delete removes the endpoint id of tenant with its deliveries (their
// pending tasks find nothing and end). It returns webhook.ErrNotFound if
// there is no such endpoint.
func (s *Webhooks) Delete(ctx context.Context, tenant, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return webhook.ErrNotFound
	}
	tag, err := s.q.pool.Exec(ctx, `DELETE FROM notification.webhook_endpoints WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if err != nil {
		return fmt.Errorf("webhook: delete endpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return webhook.ErrNotFound
	}
	return nil
}

// RotateSecret gives the endpoint id of tenant a new secret; the current
// one keeps signing too for the configured overlap. It returns the endpoint
// (with both secrets), webhook.ErrNotFound, or webhook.ErrConflict, saying
// when rotating is possible again, while the secret before the last
// rotation still signs: dropping it early would break receivers that have
// not switched yet, and keeping it makes a third signature with no bound.
func (s *Webhooks) RotateSecret(ctx context.Context, tenant, id string) (webhook.Endpoint, error) {
	if _, err := uuid.Parse(id); err != nil {
		return webhook.Endpoint{}, webhook.ErrNotFound
	}
	// The overlap condition is in the UPDATE so that of two rotations
	// racing, the second, once the first's row lock is released, re-reads
	// the row and finds the overlap begun.
	e, err := scanEndpoint(s.q.pool.QueryRow(ctx, `UPDATE notification.webhook_endpoints SET
		previous_secret = secret, previous_until = now() + $3::bigint * interval '1 microsecond',
		secret = $4, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND (previous_until IS NULL OR previous_until <= now())
		RETURNING `+endpointColumns,
		tenant, id, s.q.cfg.Webhooks.SecretOverlap.Microseconds(), webhook.NewSecret()))
	if errors.Is(err, webhook.ErrNotFound) {
		if e, err = s.Get(ctx, tenant, id); err != nil {
			return e, err
		}
		return webhook.Endpoint{}, fmt.Errorf("%w: the secret before the last rotation signs until %s; rotate again after then",
			webhook.ErrConflict, e.PreviousUntil.UTC().Format(time.RFC3339Nano))
	}
	if err != nil {
		return e, fmt.Errorf("webhook: rotate secret: %w", err)
	}
	return e, nil
}

// Deliveries returns a page of the endpoint's deliveries with their
// attempts, newest first, and whether more follow. It returns
// webhook.ErrNotFound if tenant has no such endpoint or the cursor is not
// a delivery id.
func (s *Webhooks) Deliveries(ctx context.Context, tenant, endpointID string, f webhook.DeliveryFilter) ([]webhook.Delivery, bool, error) {
	if _, err := s.Get(ctx, tenant, endpointID); err != nil {
		return nil, false, err
	}
	after, err := s.cursor(ctx, f.StartingAfter, `SELECT EXISTS (SELECT 1 FROM notification.webhook_deliveries
		WHERE endpoint_id = $2 AND id = $1)`, endpointID)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.q.pool.Query(ctx, `SELECT id::text, endpoint_id::text, event_id, event_type, event_time, status,
		coalesce(next_attempt_at, 'epoch'), created_at
		FROM notification.webhook_deliveries
		WHERE endpoint_id = $1 AND id < $2 AND ($3 = '' OR status = $3)
		ORDER BY id DESC LIMIT $4::bigint`, endpointID, after, f.Status, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Delivery, error) {
		var d webhook.Delivery
		err := r.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.EventTime, &d.Status, &d.NextAttemptAt, &d.CreatedAt)
		if d.NextAttemptAt.Before(d.CreatedAt) {
			d.NextAttemptAt = time.Time{}
		}
		return d, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	if err := s.attempts(ctx, out); err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// cursor returns the id a page starts after: uuid.Max for "" (the first
// page), else startingAfter if the query exists (on $1, the id, and $2,
// owner) finds it in the list. It returns webhook.ErrNotFound for an id of
// no row of the list, which would otherwise page from wherever it sorts, or
// an error if the database fails.
func (s *Webhooks) cursor(ctx context.Context, startingAfter, exists, owner string) (uuid.UUID, error) {
	if startingAfter == "" {
		return uuid.Max, nil
	}
	id, err := uuid.Parse(startingAfter)
	if err != nil {
		return uuid.Nil, webhook.ErrNotFound
	}
	var found bool
	if err := s.q.pool.QueryRow(ctx, exists, id, owner).Scan(&found); err != nil {
		return uuid.Nil, fmt.Errorf("webhook: read cursor: %w", err)
	}
	if !found {
		return uuid.Nil, webhook.ErrNotFound
	}
	return id, nil
}

// attempts fills in the attempts of ds, in one query.
func (s *Webhooks) attempts(ctx context.Context, ds []webhook.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]string, len(ds))
	at := make(map[string]int, len(ds))
	for i, d := range ds {
		ids[i], at[d.ID] = d.ID, i
	}
	rows, err := s.q.pool.Query(ctx, `SELECT delivery_id::text, at, coalesce(status_code, 0), duration_ms, error
		FROM notification.webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY id`, ids)
	if err != nil {
		return fmt.Errorf("webhook: list attempts: %w", err)
	}
	var id string
	var a webhook.Attempt
	var ms int64
	_, err = pgx.ForEachRow(rows, []any{&id, &a.At, &a.StatusCode, &ms, &a.Error}, func() error {
		a.Duration = time.Duration(ms) * time.Millisecond
		ds[at[id]].Attempts = append(ds[at[id]].Attempts, a)
		return nil
	})
	if err != nil {
		return fmt.Errorf("webhook: list attempts: %w", err)
	}
	return nil
}

// Retry queues the delivery again, at once, with a fresh retry schedule. It
// returns webhook.ErrNotFound if tenant's endpoint has no such delivery,
// webhook.ErrConflict if it is still pending or the endpoint is disabled.
func (s *Webhooks) Retry(ctx context.Context, tenant, endpointID, deliveryID string) error {
	if _, err := uuid.Parse(deliveryID); err != nil {
		return webhook.ErrNotFound
	}
	n, err := s.requeue(ctx, tenant, endpointID, deliveryID)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var exists bool
	err = s.q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notification.webhook_deliveries WHERE endpoint_id = $1 AND id = $2)`,
		endpointID, deliveryID).Scan(&exists)
	switch {
	case err != nil:
		return fmt.Errorf("webhook: retry: %w", err)
	case !exists:
		return webhook.ErrNotFound
	}
	return fmt.Errorf("%w: the delivery is still pending", webhook.ErrConflict)
}

// Replay queues again, in one transaction, up to webhook.MaxReplay
// deliveries to the endpoint of events since r.Since, oldest event first,
// after the delivery r.StartingAfter (those pending are passed by: under
// way already), with their event ids, so receivers recognise the ones they
// had. It returns how many it queued and whether later ones remain. It
// returns webhook.ErrNotFound for no such endpoint or a cursor that is
// none of its deliveries, or webhook.ErrConflict if the endpoint is
// disabled.
func (s *Webhooks) Replay(ctx context.Context, tenant, endpointID string, r webhook.Replay) (webhook.Replayed, error) {
	e, err := s.Get(ctx, tenant, endpointID)
	if err != nil {
		return webhook.Replayed{}, err
	}
	if err := e.Redeliverable(); err != nil {
		return webhook.Replayed{}, err
	}
	// The page starts after (event time, id) of the cursor; uuid.Nil sorts
	// before every delivery of the first page's time.
	fromTime, fromID := r.Since, uuid.Nil
	if r.StartingAfter != "" {
		if fromID, err = uuid.Parse(r.StartingAfter); err != nil {
			return webhook.Replayed{}, webhook.ErrNotFound
		}
		err := s.q.pool.QueryRow(ctx, `SELECT event_time FROM notification.webhook_deliveries WHERE endpoint_id = $1 AND id = $2`,
			endpointID, fromID).Scan(&fromTime)
		if errors.Is(err, pgx.ErrNoRows) {
			return webhook.Replayed{}, webhook.ErrNotFound
		}
		if err != nil {
			return webhook.Replayed{}, fmt.Errorf("webhook: read replay cursor: %w", err)
		}
	}
	var out webhook.Replayed
	err = inTx(ctx, s.q, "webhook: replay", func(tx pgx.Tx) error {
		// Locked by the page's select, the rows stay settled until they are
		// set pending: a retry of one of them waits rather than queue it twice.
		ids, err := s.q.queueDeliveries(ctx, tx, `WITH page AS (
				SELECT id FROM notification.webhook_deliveries
				WHERE endpoint_id = $1 AND status <> $2 AND event_time >= $3 AND (event_time, id) > ($4::timestamptz, $5::uuid)
				ORDER BY event_time, id LIMIT $6::bigint FOR UPDATE
			), queued AS (
				UPDATE notification.webhook_deliveries d SET status = 'pending', failures = 0, next_attempt_at = now()
				FROM page WHERE d.id = page.id RETURNING d.id, d.event_time
			)
			SELECT id::text FROM queued ORDER BY event_time, id`,
			endpointID, webhook.DeliveryPending, r.Since, fromTime, fromID, webhook.MaxReplay)
		if err != nil || len(ids) < webhook.MaxReplay {
			out.Queued = len(ids)
			return err
		}
		out.Queued, out.Next = len(ids), ids[len(ids)-1]
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notification.webhook_deliveries
			WHERE endpoint_id = $1 AND status <> $2 AND event_time >= $3
				AND (event_time, id) > (SELECT event_time, id FROM notification.webhook_deliveries WHERE id = $4))`,
			endpointID, webhook.DeliveryPending, r.Since, out.Next).Scan(&out.More)
		if err != nil {
			return fmt.Errorf("webhook: replay: look for more: %w", err)
		}
		return nil
	})
	if err != nil {
		return webhook.Replayed{}, err
	}
	if !out.More {
		out.Next = ""
	}
	return out, nil
}

// requeue sets the endpoint's non-pending delivery id pending again and
// stores a task for it, in one transaction. It returns how many (0 or 1).
func (s *Webhooks) requeue(ctx context.Context, tenant, endpointID, id string) (n int, err error) {
	e, err := s.Get(ctx, tenant, endpointID)
	if err != nil {
		return 0, err
	}
	if err := e.Redeliverable(); err != nil {
		return 0, err
	}
	err = inTx(ctx, s.q, "webhook: requeue", func(tx pgx.Tx) error {
		ids, err := s.q.queueDeliveries(ctx, tx, `UPDATE notification.webhook_deliveries
			SET status = 'pending', failures = 0, next_attempt_at = now()
			WHERE endpoint_id = $1 AND status <> $2 AND id = $3 RETURNING id::text`, endpointID, webhook.DeliveryPending, id)
		n = len(ids)
		return err
	})
	return n, err
}
