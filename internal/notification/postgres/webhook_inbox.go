package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	tx, err := in.q.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhook: inbox: begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	ids, types := make([]string, len(evs)), make([]string, len(evs))
	for i, ev := range evs {
		ids[i], types[i] = ev.ID, ev.Type
	}
	rows, err := tx.Query(ctx, `INSERT INTO notification.inbox (consumer, event_id, event_type)
		SELECT $1, id, type FROM unnest($2::text[], $3::text[]) AS e(id, type)
		ON CONFLICT DO NOTHING RETURNING event_id`, in.consumer, ids, types)
	if err != nil {
		return 0, fmt.Errorf("webhook: inbox: insert events: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("webhook: inbox: insert events: %w", err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	var news []notification.Event
	tenants := map[string]bool{}
	for _, ev := range evs {
		if isNew[ev.ID] {
			news = append(news, ev)
			tenants[ev.TenantID] = true
			delete(isNew, ev.ID)
		}
	}
	endpoints, err := in.endpoints(ctx, tx, tenants)
	if err != nil {
		return 0, err
	}
	var dIDs, dEndpoints, dEvents, dTypes []string
	var dTimes []time.Time
	var dBodies [][]byte
	now := time.Now()
	for _, ev := range news {
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
			dTimes, dBodies = append(dTimes, at), append(dBodies, ev.Raw)
		}
	}
	if len(dIDs) > 0 {
		// A delivery of the same event to the same endpoint exists only if
		// the inbox forgot the event (past retention): keep the first.
		rows, err := tx.Query(ctx, `INSERT INTO notification.webhook_deliveries
			(id, endpoint_id, event_id, event_type, event_time, body, next_attempt_at)
			SELECT id, endpoint_id, event_id, event_type, event_time, body, now()
			FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::bytea[])
				AS d(id, endpoint_id, event_id, event_type, event_time, body)
			ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id::text`,
			dIDs, dEndpoints, dEvents, dTypes, dTimes, dBodies)
		if err != nil {
			return 0, fmt.Errorf("webhook: inbox: insert deliveries: %w", err)
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return 0, fmt.Errorf("webhook: inbox: insert deliveries: %w", err)
		}
		if err := in.q.insertDeliveryTasks(ctx, tx, stored); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("webhook: inbox: commit: %w", err)
	}
	return len(news), nil
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
