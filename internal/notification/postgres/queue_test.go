package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/infra/postgres/pgtest"
	"github.com/invoicing-dev/invoicing/internal/notification"
	"github.com/invoicing-dev/invoicing/internal/notification/postgres"
)

type nopMailer struct{}

func (nopMailer) Send(context.Context, notification.Email) error { return nil }

// TestInboxForgetsEventsPastRetention checks the hourly pruning job, which
// also runs when the workers start.
func TestInboxForgetsEventsPastRetention(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewURL(t)
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, err = pool.Exec(ctx, `INSERT INTO notification.inbox (consumer, event_id, event_type, received_at) VALUES
		('notification', 'old', 'invoicing.invoice.paid', now() - interval '2 hours'),
		('notification', 'new', 'invoicing.invoice.paid', now() - interval '10 minutes')`)
	if err != nil {
		t.Fatal(err)
	}
	q, err := postgres.NewQueue(pool, postgres.QueueConfig{Mailer: nopMailer{}, InboxRetention: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
