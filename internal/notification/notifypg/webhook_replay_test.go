package notifypg_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/invoicing-dev/invoicing/internal/notification/notifypg"
	"github.com/invoicing-dev/invoicing/internal/notification/webhook"
)

// storedDeliveries stores n settled deliveries to a new endpoint of acme,
// ten to an event time, a second apart from base on, on a queue that runs
// nothing (what a replay queues stays queued), and returns the store and
// the endpoint and the pool.
func storedDeliveries(t *testing.T, n int, base time.Time) (*notifypg.Webhooks, webhook.Endpoint, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	pool := newPool(t)
	q, err := notifypg.NewQueue(pool, notifypg.QueueConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	wh := q.Webhooks()
	e, err := wh.Create(ctx, "acme", webhook.NewEndpoint{URL: "https://receiver.example/", EnabledEvents: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO notification.webhook_events (id, body)
		SELECT 'ev-' || i, '{}' FROM generate_series(1, $1::int) i`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO notification.webhook_deliveries (id, endpoint_id, event_id, event_type, event_time, status)
		SELECT gen_random_uuid(), $1, 'ev-' || i, 'invoicing.invoice.paid', $2::timestamptz + (i / 10) * interval '1 second',
			CASE WHEN i % 2 = 0 THEN 'succeeded' ELSE 'failed' END
		FROM generate_series(1, $3::int) i`, e.ID, base, n); err != nil {
		t.Fatal(err)
	}
	return wh, e, pool
}

// queuedDeliveries returns how many delivery tasks name each delivery.
func queuedDeliveries(t *testing.T, pool *pgxpool.Pool) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT args->>'delivery_id' FROM notification.river_job WHERE kind = 'notification.webhook'`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, id := range ids {
		n[id]++
	}
	return n
}

func TestWebhookReplayQueuesABoundedPage(t *testing.T) {
	base := time.Now().Add(-24 * time.Hour)
	wh, e, pool := storedDeliveries(t, 2500, base)
	got, err := wh.Replay(context.Background(), "acme", e.ID, webhook.Replay{Since: base.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Queued != webhook.MaxReplay || !got.More || got.Next == "" {
		t.Errorf("one replay of 2500 deliveries: %+v, want %d queued and more after the last", got, webhook.MaxReplay)
	}
	if n := len(queuedDeliveries(t, pool)); n != webhook.MaxReplay {
		t.Errorf("%d delivery tasks stored, want %d", n, webhook.MaxReplay)
	}
}

// TestWebhookReplayPagesQueueEachDeliveryOnce replays from the middle of a
// run of deliveries of one event time, page after page, until no more
// remain: every delivery since then is queued exactly once, and none before.
func TestWebhookReplayPagesQueueEachDeliveryOnce(t *testing.T) {
	base := time.Now().Add(-24 * time.Hour)
	wh, e, pool := storedDeliveries(t, 2500, base)
	since := base.Add(30 * time.Second) // deliveries 300 to 2500
	r := webhook.Replay{Since: since}
	total, calls := 0, 0
	for {
		got, err := wh.Replay(context.Background(), "acme", e.ID, r)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		total += got.Queued
		if got.Queued > webhook.MaxReplay {
			t.Fatalf("call %d queued %d, more than %d", calls, got.Queued, webhook.MaxReplay)
		}
		if !got.More {
			break
		}
		if calls > 10 {
			t.Fatal("still more after 10 calls")
		}
		r.StartingAfter = got.Next
	}
	queued := queuedDeliveries(t, pool)
	if total != 2201 || len(queued) != 2201 || calls != 3 {
		t.Errorf("%d calls queued %d deliveries, %d distinct; want 3 calls, 2201", calls, total, len(queued))
	}
	for id, n := range queued {
		if n != 1 {
			t.Errorf("delivery %s queued %d times", id, n)
		}
	}
	var before int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM notification.webhook_deliveries
		WHERE event_time < $1 AND status = 'pending'`, since).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before != 0 {
		t.Errorf("%d deliveries before since queued", before)
	}
	// Once all are under way, a replay from the start finds nothing.
	if got, err := wh.Replay(context.Background(), "acme", e.ID, webhook.Replay{Since: since}); err != nil || got.Queued != 0 || got.More {
		t.Errorf("replay with every delivery pending: %+v, %v; want nothing queued", got, err)
	}
}

func TestWebhookReplayAfterAnotherEndpointsDeliveryNotFound(t *testing.T) {
	base := time.Now().Add(-time.Hour)
	wh, e, _ := storedDeliveries(t, 3, base)
	for _, cursor := range []string{"not-a-uuid", uuid.Must(uuid.NewV7()).String()} {
		_, err := wh.Replay(context.Background(), "acme", e.ID, webhook.Replay{Since: base, StartingAfter: cursor})
		if !errors.Is(err, webhook.ErrNotFound) {
			t.Errorf("replay after %q: %v, want webhook.ErrNotFound", cursor, err)
		}
	}
}
