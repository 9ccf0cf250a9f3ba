package notifypg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// WebhookInbox records the events the webhooks consumer has handled and
// turns each new one into one delivery, and one task, per subscribed
// endpoint of its tenant, in one transaction.
type WebhookInbox struct {
	q        *Queue
	consumer string
}

// WebhookInbox returns the webhooks inbox of the named consumer.
func (q *Queue) WebhookInbox(consumer string) *WebhookInbox {
	return &WebhookInbox{q: q, consumer: consumer}
}

// Handle takes a batch of events in one transaction, like Inbox.Handle: a
// re-delivered event stops at the inbox; a new one gets a delivery and its
// task per enabled endpoint of its tenant subscribed to its type. It
// returns how many events were new; on error nothing was stored.
func (in *WebhookInbox) Handle(ctx context.Context, evs []notification.Event) (fresh int, err error) {
	err = inTx(ctx, in.q, "webhook: inbox", func(tx pgx.Tx) error {
		news, err := newEvents(ctx, tx, in.consumer, evs)
		if err != nil {
			return err
		}
		fresh = len(news)
		tenants := map[string]bool{}
		for _, ev := range news {
			tenants[ev.TenantID] = true
		}
		endpoints, err := in.endpoints(ctx, tx, tenants)
		if err != nil {
			return err
		}
		var dIDs, dEndpoints, dEvents, dTypes, dTenants []string
		var dTimes []time.Time
		var bodies []eventBody
		now := time.Now()
		for _, ev := range news {
			n := len(dIDs)
			for _, e := range endpoints[ev.TenantID] {
				if !e.Subscribed(ev.Type) {
					continue
				}
				at := ev.Time
				if at.IsZero() {
					at = now
				}
				dIDs = append(dIDs, uuid.Must(uuid.NewV7()).String())
				dEndpoints, dEvents, dTypes = append(dEndpoints, e.ID), append(dEvents, ev.ID), append(dTypes, ev.Type)
				dTenants = append(dTenants, ev.TenantID)
				dTimes = append(dTimes, at)
			}
			if len(dIDs) > n {
				bodies = append(bodies, eventBody{ev.ID, ev.Raw})
			}
		}
		if len(dIDs) == 0 {
			return nil
		}
		if err := storeBodies(ctx, tx, bodies...); err != nil {
			return err
		}
		tenantOf := make(map[string]string, len(dIDs))
		for i, id := range dIDs {
			tenantOf[id] = dTenants[i]
		}
		// A delivery of the same event to the same endpoint exists only if
		// the inbox forgot the event (past retention): keep the first.
		_, err = in.q.queueDeliveriesOf(ctx, tx, tenantOf, `INSERT INTO notification.webhook_deliveries
			(id, endpoint_id, event_id, event_type, event_time, next_attempt_at)
			SELECT id, endpoint_id, event_id, event_type, event_time, now()
			FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
				AS d(id, endpoint_id, event_id, event_type, event_time)
			ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id::text`,
			dIDs, dEndpoints, dEvents, dTypes, dTimes)
		return err
	})
	return fresh, err
}

// eventBody is an event's body, stored once for all its deliveries.
type eventBody struct {
	id   string
	body []byte
}

// storeBodies stores the bodies in tx, each once, however many deliveries
// refer to it: the arrays of a fan-out carry no body per delivery, so its
// memory and its writes are one body per event whatever the number of
// endpoints. A body stored already (the event's deliveries were made
// before, past the inbox's retention) is kept.
func storeBodies(ctx context.Context, tx pgx.Tx, bodies ...eventBody) error {
	ids, raws := make([]string, len(bodies)), make([][]byte, len(bodies))
	for i, b := range bodies {
		ids[i], raws[i] = b.id, b.body
	}
	_, err := tx.Exec(ctx, `INSERT INTO notification.webhook_events (id, body)
		SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (id) DO NOTHING`, ids, raws)
	if err != nil {
		return fmt.Errorf("webhook: store event bodies: %w", err)
	}
	return nil
}

// endpoints returns the enabled endpoints of tenants, by tenant. FOR SHARE
// keeps an endpoint from being deleted between this read and the
// deliveries' insert.
func (in *WebhookInbox) endpoints(ctx context.Context, tx pgx.Tx, tenants map[string]bool) (map[string][]webhook.Endpoint, error) {
	if len(tenants) == 0 {
		return nil, nil
	}
	list := make([]string, 0, len(tenants))
	for t := range tenants {
		list = append(list, t)
	}
	rows, err := tx.Query(ctx, `SELECT id::text, tenant_id, enabled_events FROM notification.webhook_endpoints
		WHERE tenant_id = ANY($1::text[]) AND status = 'enabled' FOR SHARE`, list)
	if err != nil {
		return nil, fmt.Errorf("webhook: inbox: read endpoints: %w", err)
	}
	out := map[string][]webhook.Endpoint{}
	var e webhook.Endpoint
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.TenantID, &e.EnabledEvents}, func() error {
		out[e.TenantID] = append(out[e.TenantID], webhook.Endpoint{ID: e.ID, TenantID: e.TenantID, EnabledEvents: e.EnabledEvents})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: inbox: read endpoints: %w", err)
	}
	return out, nil
}

// inTx runs fn in a transaction on the queue's pool and commits it. If fn
// or the commit fails it rolls back and returns the error, prefixed by what.
func inTx(ctx context.Context, q *Queue, what string, fn func(pgx.Tx) error) (err error) {
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// queueDeliveries runs query in tx, which returns delivery ids (deliveries
// made or made pending again) of one tenant, and stores one task per id.
// It returns the ids.
func (q *Queue) queueDeliveries(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]string, error) {
	return q.queueDeliveriesOf(ctx, tx, nil, query, args...)
}

// queueDeliveriesOf is queueDeliveries for the deliveries of several
// tenants: tenantOf maps each id to its tenant (nil: one tenant). A burst
// (an event fanned out to every endpoint, a batch of events, a replay)
// goes in as bursts says.
func (q *Queue) queueDeliveriesOf(ctx context.Context, tx pgx.Tx, tenantOf map[string]string, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("webhook: queue deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("webhook: queue deliveries: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	params := make([]river.InsertManyParams, len(ids))
	b := newBursts(q.cfg.Webhooks.PerTenant)
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: webhookArgs{DeliveryID: id}, InsertOpts: b.next(tenantOf[id])}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return nil, fmt.Errorf("webhook: store delivery tasks: %w", err)
	}
	return ids, nil
}
