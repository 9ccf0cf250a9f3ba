package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/invoicing-dev/invoicing/internal/notification"
)

// Inbox records the events one consumer has handled and turns each new one
// into its tasks, in one transaction.
type Inbox struct {
	q        *Queue
	consumer string
}

// Inbox returns the inbox of the named consumer (e.g. the JetStream durable
// name): event ids are unique per consumer.
func (q *Queue) Inbox(consumer string) *Inbox { return &Inbox{q: q, consumer: consumer} }

// Handle takes a batch of events in one transaction: for each, it inserts its
// id into the inbox; an id already there is a re-delivery and nothing else
// happens; otherwise one task per reaction is stored in the same
// transaction. It returns how many events were new. After it returns nil the
// batch may be acknowledged; on error nothing was stored and every event of
// it must be delivered again.
func (in *Inbox) Handle(ctx context.Context, evs []notification.Event) (fresh int, err error) {
	tx, err := in.q.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("notification: inbox: begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	var params []river.InsertManyParams
	for _, ev := range evs {
		tag, err := tx.Exec(ctx, `INSERT INTO notification.inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			in.consumer, ev.ID, ev.Type)
		if err != nil {
			return 0, fmt.Errorf("notification: inbox: insert event %s: %w", ev.ID, err)
		}
		if tag.RowsAffected() == 0 {
			continue // handled before: a re-delivery
		}
		fresh++
		to, ok, err := in.recipient(ctx, tx, ev)
		if err != nil {
			return 0, err
		}
		if !ok {
			in.q.log.WarnContext(ctx, "no recipient known for the invoice; no email", "event_id", ev.ID, "type", ev.Type, "invoice_id", ev.Subject)
			continue
		}
		for _, t := range notification.Plan(ev, to, in.q.cfg.Reactions) {
			params = append(params, river.InsertManyParams{Args: emailArgs{Task: t}})
		}
	}
	if len(params) > 0 {
		if _, err := in.q.client.InsertManyTx(ctx, tx, params); err != nil {
			return 0, fmt.Errorf("notification: inbox: store tasks: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("notification: inbox: commit: %w", err)
	}
	return fresh, nil
}

// recipient returns who ev's emails go to: the customer the event names,
// remembered for later events of the invoice, or the one remembered.
func (in *Inbox) recipient(ctx context.Context, tx pgx.Tx, ev notification.Event) (notification.Customer, bool, error) {
	to, named, err := notification.Recipient(ev)
	if err != nil {
		// A malformed event is not retried: it has no recipient.
		in.q.log.WarnContext(ctx, "event without a usable customer", "event_id", ev.ID, "err", err)
		return notification.Customer{}, false, nil
	}
	if named {
		_, err := tx.Exec(ctx, `INSERT INTO notification.recipients (invoice_id, name, email) VALUES ($1, $2, $3)
			ON CONFLICT (invoice_id) DO UPDATE SET name = excluded.name, email = excluded.email, updated_at = now()`,
			ev.Subject, to.Name, to.Email)
		if err != nil {
			return to, false, fmt.Errorf("notification: inbox: remember recipient of %s: %w", ev.Subject, err)
		}
		return to, true, nil
	}
	err = tx.QueryRow(ctx, `SELECT name, email FROM notification.recipients WHERE invoice_id = $1`, ev.Subject).Scan(&to.Name, &to.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return to, false, nil
	}
	if err != nil {
		return to, false, fmt.Errorf("notification: inbox: look up recipient of %s: %w", ev.Subject, err)
	}
	return to, true, nil
}
