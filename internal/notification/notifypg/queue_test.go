package notifypg_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
)

type nopMailer struct{}

func (nopMailer) Send(context.Context, notification.Email) error { return nil }

// TestInboxForgetsEventsPastRetention checks the hourly pruning job, which
// also runs when the workers start.
func TestInboxForgetsEventsPastRetention(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO notification.inbox (consumer, event_id, event_type, received_at) VALUES
		('notification', 'old', 'invoicing.invoice.paid', now() - interval '2 hours'),
		('notification', 'new', 'invoicing.invoice.paid', now() - interval '10 minutes')`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: nopMailer{}, InboxRetention: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var ids []string
		rows, _ := pool.Query(ctx, `SELECT event_id FROM notification.inbox ORDER BY event_id`)
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		if len(ids) == 1 && ids[0] == "new" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox holds %v after 30s, want [new]", ids)
		}
	}
}

// TestPruneForgetsBodiesNoDeliveryNeeds: the hourly pruning deletes, past
// retention, settled deliveries and then the event bodies no delivery
// refers to; a pending delivery (its task still to run) keeps its body,
// and so does a recent event.
func TestPruneForgetsBodiesNoDeliveryNeeds(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO notification.webhook_endpoints (id, tenant_id, url, enabled_events, secret) VALUES
		('019ad1c2-0000-7000-8000-00000000000a', 'acme', 'https://a.example', '{*}', 's');
		INSERT INTO notification.webhook_events (id, body, created_at) VALUES
		('old-settled', 'x', now() - interval '2 hours'), ('old-pending', 'x', now() - interval '2 hours'),
		('old-orphan', 'x', now() - interval '2 hours'), ('new-orphan', 'x', now());
		INSERT INTO notification.webhook_deliveries (id, endpoint_id, event_id, event_type, event_time, status, created_at) VALUES
		('019ad1c2-0000-7000-8000-000000000001', '019ad1c2-0000-7000-8000-00000000000a', 'old-settled', 't', now(), 'succeeded', now() - interval '2 hours'),
		('019ad1c2-0000-7000-8000-000000000002', '019ad1c2-0000-7000-8000-00000000000a', 'old-pending', 't', now(), 'pending', now() - interval '2 hours');
		INSERT INTO notification.river_job (kind, queue, args, state, attempt, max_attempts) VALUES
		('notification.webhook', 'webhook', '{"delivery_id":"019ad1c2-0000-7000-8000-000000000002"}', 'available', 0, 25)`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{Mailer: nopMailer{}, InboxRetention: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Stop(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var bodies string
		if err := pool.QueryRow(ctx, `SELECT string_agg(id, ',' ORDER BY id) FROM notification.webhook_events`).Scan(&bodies); err != nil {
			t.Fatal(err)
		}
		if bodies == "new-orphan,old-pending" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bodies %s after 30s, want new-orphan,old-pending", bodies)
		}
	}
}
