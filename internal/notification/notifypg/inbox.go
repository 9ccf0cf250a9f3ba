package notifypg

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// Handle takes a batch of events in one transaction: it inserts their ids
// into the inbox; an id already there is a re-delivery and nothing else
// happens to it; for the others one task per reaction is stored in the same
// transaction, and the payment reminder processes of their invoices move
// on (see remind). It returns how many events were new. After it returns nil the
// batch may be acknowledged; on error nothing was stored and every event of
// it must be delivered again.
//
// The statements are set-based, a fixed number per batch whatever its size:
// one statement per event made ingest several times slower (BenchmarkIngest;
// figures in docs/architecture.md and docs/benchmarks-notification.md).
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
	news, err := newEvents(ctx, tx, in.consumer, evs)
	if err != nil {
		return 0, err
	}
	if err := in.remind(ctx, tx, news); err != nil {
		return 0, err
	}
	recipients, err := in.recipients(ctx, tx, news)
	if err != nil {
		return 0, err
	}
	var params []river.InsertManyParams
	tenants := make([]string, len(news))
	for i, ev := range news {
		tenants[i] = ev.TenantID
	}
	now := time.Now()
	b := in.q.recent.start(in.q.cfg.PerTenant, tenants, now)
	for _, ev := range news {
		to, ok := recipients[ev.Subject]
		if !ok {
			in.q.log.WarnContext(ctx, "no recipient known for the invoice; no email", "event_id", ev.ID, "type", ev.Type, "invoice_id", ev.Subject)
			continue
		}
		for _, t := range notification.Plan(ev, to, in.q.cfg.Reactions) {
			params = append(params, river.InsertManyParams{Args: emailArgs{Task: t}, InsertOpts: b.next(ev.TenantID)})
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
	in.q.recent.add(b, now)
	return len(news), nil
}

// recipients returns who the emails of evs go to, by invoice id: the
// customer an event names (remembered, in the transaction, for the
// invoice's later events), else the one remembered. An invoice with neither
// is absent.
func (in *Inbox) recipients(ctx context.Context, tx pgx.Tx, evs []notification.Event) (map[string]notification.Customer, error) {
	named := map[string]notification.Customer{}
	var lookup []string
	for _, ev := range evs {
		to, ok, err := notification.Recipient(ev)
		switch {
		case err != nil:
			// A malformed event is not retried: it has no recipient.
			in.q.log.WarnContext(ctx, "event without a usable customer", "event_id", ev.ID, "err", err)
		case ok:
			named[ev.Subject] = to // the batch is in stream order: the latest wins
		default:
			lookup = append(lookup, ev.Subject)
		}
	}
	if len(named) > 0 {
		invoices, names, emails := make([]string, 0, len(named)), make([]string, 0, len(named)), make([]string, 0, len(named))
		for id, to := range named {
			invoices, names, emails = append(invoices, id), append(names, to.Name), append(emails, to.Email)
		}
		_, err := tx.Exec(ctx, `INSERT INTO notification.recipients (invoice_id, name, email)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
			ON CONFLICT (invoice_id) DO UPDATE SET name = excluded.name, email = excluded.email, updated_at = now()`,
			invoices, names, emails)
		if err != nil {
			return nil, fmt.Errorf("notification: inbox: remember recipients: %w", err)
		}
	}
	if len(lookup) > 0 {
		rows, err := tx.Query(ctx, `SELECT invoice_id, name, email FROM notification.recipients WHERE invoice_id = ANY($1::text[])`, lookup)
		if err != nil {
			return nil, fmt.Errorf("notification: inbox: look up recipients: %w", err)
		}
		var id string
		var to notification.Customer
		_, err = pgx.ForEachRow(rows, []any{&id, &to.Name, &to.Email}, func() error {
			if _, ok := named[id]; !ok {
				named[id] = to
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("notification: inbox: look up recipients: %w", err)
		}
	}
	return named, nil
}

// newEvents inserts the ids of evs into consumer's inbox in tx and returns
// the events that were new, in order, each once. ON CONFLICT DO NOTHING
// skips ids handled before and an id twice in the batch alike; RETURNING
// names the ones that are new.
func newEvents(ctx context.Context, tx pgx.Tx, consumer string, evs []notification.Event) ([]notification.Event, error) {
	ids, types := make([]string, len(evs)), make([]string, len(evs))
	for i, ev := range evs {
		ids[i], types[i] = ev.ID, ev.Type
	}
	rows, err := tx.Query(ctx, `INSERT INTO notification.inbox (consumer, event_id, event_type)
		SELECT $1, id, type FROM unnest($2::text[], $3::text[]) AS e(id, type)
		ON CONFLICT DO NOTHING RETURNING event_id`, consumer, ids, types)
	if err != nil {
		return nil, fmt.Errorf("notification: inbox: insert events: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("notification: inbox: insert events: %w", err)
	}
	isNew := make(map[string]bool, len(inserted))
	for _, id := range inserted {
		isNew[id] = true
	}
	var news []notification.Event
	for _, ev := range evs {
		if isNew[ev.ID] {
			news = append(news, ev)
			delete(isNew, ev.ID) // the first copy only
		}
	}
	return news, nil
}
